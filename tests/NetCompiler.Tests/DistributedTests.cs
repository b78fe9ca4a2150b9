using System;
using System.Diagnostics;
using System.IO;

namespace NetCompiler.Tests;

/// <summary>
/// Data-parallel training under real MPI: tests/NetCompiler.Distributed runs as two ranks under Debian's mpiexec.mpich
/// on this machine (scripts/install-mpich.sh installs it; the test command runs that first).
/// </summary>
public sealed class DistributedTests
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);

    [Fact]
    public void TwoRanksTrainAsOneProcessWithTheGlobalBatchAndStayIdentical()
    {
        (int exit, string output) = RunRanks("train");
        Assert.True(exit == 0, output);
        Assert.Contains("rank 0 of 2: ok", output);
        Assert.Contains("rank 1 of 2: ok", output);
    }

    [Fact]
    public void ARankThatFailsAbortsTheJobNamingItself()
    {
        (int exit, string output) = RunRanks("fail");
        Assert.NotEqual(0, exit);
        Assert.Contains("rank 1 of 2 failed", output);
        Assert.Contains("rank 1 fails on purpose", output);
    }

    [Fact]
    public void OutsideMpiexecTheGroupIsOneProcess()
    {
        string[] args = ["--epochs", "1"];
        using ProcessGroup group = ProcessGroup.Mpi(ref args);
        Assert.Equal((0, 1, true), (group.Rank, group.Size, group.IsRoot));
        float[] values = [1, 2, 3];
        group.AllReduceSum(values);
        Assert.Equal([1f, 2f, 3f], values);
        Assert.Equal(["--epochs", "1"], args);
    }

    private static (int Exit, string Output) RunRanks(string mode)
    {
        string program = Path.Combine(AppContext.BaseDirectory.Replace("NetCompiler.Tests", "NetCompiler.Distributed"), "NetCompiler.Distributed.dll");
        Assert.True(File.Exists(program), $"{program} is built with the solution");
        var start = new ProcessStartInfo("mpiexec.mpich", ["-n", "2", "dotnet", program, mode])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process ranks = Process.Start(start)!;
        var output = ranks.StandardOutput.ReadToEndAsync();
        var error = ranks.StandardError.ReadToEndAsync();
        if (!ranks.WaitForExit(Limit))
        {
            ranks.Kill(entireProcessTree: true);
            Assert.Fail($"mpiexec did not finish within {Limit}: a rank hangs.");
        }

        return (ranks.ExitCode, output.Result + error.Result);
    }
}
