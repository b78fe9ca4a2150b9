using System;
using System.Collections.Generic;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

// Prints the peer's figures, read from the JSON bench/peer.py writes, as a table (bench/run.sh passes the file).
if (args is not ["--peer-json", string peerJsonPath])
{
    Console.Error.WriteLine("usage: NetCompiler.Bench --peer-json <file written by bench/peer.py>");
    return 2;
}

var options = new JsonSerializerOptions
{
    PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    RespectRequiredConstructorParameters = true,
    RespectNullableAnnotations = true,
};
PeerReport peer = JsonSerializer.Deserialize<PeerReport>(File.ReadAllText(peerJsonPath), options)
    ?? throw new InvalidDataException($"{peerJsonPath}: holds null, not a peer report.");

Console.WriteLine($"Peer: PyTorch {peer.Torch}, {peer.Threads} threads, batch {peer.Batch}, {peer.Dtype}");
Console.WriteLine();
Console.WriteLine($"{"Network",-12} {"Input",-9} {"Params",10} {"Train img/s",12} {"Infer img/s",12}");
foreach ((string name, PeerNetwork network) in peer.Networks)
{
    Console.WriteLine($"{name,-12} {network.Input,-9} {network.Parameters,10:N0} {network.TrainImagesPerS,12:N1} {network.InferenceImagesPerS,12:N1}");
}

Console.WriteLine();
Console.WriteLine($"SGEMM 2048^3: {peer.Matmul2048Gflops:N1} GFLOP/s");
return 0;

/// <summary>bench/peer.py's output; property names are its keys in PascalCase.</summary>
internal sealed record PeerReport(
    string Torch,
    int Threads,
    int Batch,
    string Dtype,
    IReadOnlyDictionary<string, PeerNetwork> Networks,
    [property: JsonPropertyName("matmul_2048_gflops")] double Matmul2048Gflops);

internal sealed record PeerNetwork(string Input, long Parameters, double TrainImagesPerS, double InferenceImagesPerS);
