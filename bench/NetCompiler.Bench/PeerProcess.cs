using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace NetCompiler.Bench;

/// <summary>
/// bench/peer.py --serve as a child process: it times one of its parts (a network's train or infer step, the
/// implicit solve's forward or forward_backward) on request, so each repeat of ours can sit beside one of the peer's.
/// </summary>
internal sealed class PeerProcess : IDisposable
{
    private readonly Process process;
    private readonly string commandLine;

    /// <param name="command">The peer's command line, its environment included (bench/run.sh builds it).</param>
    public PeerProcess(IReadOnlyList<string> command)
    {
        commandLine = string.Join(' ', command);
        var start = new ProcessStartInfo(command[0]) { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (string argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start the peer: {commandLine}");
    }

    /// <summary>
    /// The peer's seconds per call of <paramref name="part"/>'s <paramref name="mode"/> step, called for at least
    /// <paramref name="minSeconds"/> (the first request for a step warms it up first; 0 asks for just that).
    /// </summary>
    public double SecondsPerCall(string part, string mode, double minSeconds)
    {
        string request = string.Create(CultureInfo.InvariantCulture, $"{part} {mode} {minSeconds}");
        string? answer;
        try
        {
            process.StandardInput.WriteLine(request);
            process.StandardInput.Flush();
            answer = process.StandardOutput.ReadLine();
        }
        catch (IOException exception)
        {
            throw new InvalidOperationException($"The peer stopped before answering \"{request}\" (exit code {ExitCode()}): {commandLine}", exception);
        }

        if (answer is null)
        {
            throw new InvalidOperationException($"The peer ended without answering \"{request}\" (exit code {ExitCode()}; its error output is above): {commandLine}");
        }

        using JsonDocument json = JsonDocument.Parse(answer);
        return json.RootElement.GetProperty("seconds_per_call").GetDouble();
    }

    public void Dispose()
    {
        process.StandardInput.Close(); // end of input ends the peer
        if (!process.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }

    private string ExitCode()
    {
        process.WaitForExit(TimeSpan.FromSeconds(5));
        return process.HasExited ? process.ExitCode.ToString(CultureInfo.InvariantCulture) : "still running";
    }
}
