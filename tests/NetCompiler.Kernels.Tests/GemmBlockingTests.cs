using System;
using System.IO;

namespace NetCompiler.Kernels.Tests;

public class GemmBlockingTests
{
    private const int MR = 6;
    private const long KiB = 1 << 10, MiB = 1 << 20;

    [Fact]
    public void BlocksFollowTheCacheModel()
    {
        // This Xeon (48 KiB L1d, 2 MiB L2, 300 MiB L3 over two cores) at AVX-512's NR: MR x KC of A in half of L1 gives
        // 24 KiB / 24 B = 1024; MC = 1 MiB / 4 KiB = 256, down to 252 (MR); NC = 75 MiB / 4 KiB, clamped to MaxNC.
        Assert.Equal(new GemmBlocking(1024, 252, 8192), GemmBlocking.For(new CacheSizes(48 * KiB, 2 * MiB, 150 * MiB), MR, 32));

        // The defaults: 16 KiB / 24 B = 682 -> 680; 512 KiB / 2720 B = 192; 1 MiB / 2720 B = 385 -> 384 at each NR.
        Assert.Equal(new GemmBlocking(680, 192, 384), GemmBlocking.For(CacheSizes.Default, MR, 32));
        Assert.Equal(new GemmBlocking(680, 192, 384), GemmBlocking.For(CacheSizes.Default, MR, 16));
        Assert.Equal(new GemmBlocking(680, 192, 384), GemmBlocking.For(CacheSizes.Default, MR, 2));
    }

    [Fact]
    public void EveryMachineGetsBlocksTheKernelCanUse()
    {
        foreach (long l1 in new[] { 0, 8 * KiB, 32 * KiB, 48 * KiB, 80 * KiB, 1 * MiB })
        {
            foreach (long l2 in new[] { 0, 256 * KiB, 1 * MiB, 2 * MiB, 64 * MiB })
            {
                foreach (long l3 in new[] { 0, 1 * MiB, 32 * MiB, 300 * MiB })
                {
                    foreach (int nr in new[] { 2, 16, 32 })
                    {
                        var caches = new CacheSizes(l1, l2, l3);
                        GemmBlocking blocks = GemmBlocking.For(caches, MR, nr);
                        string context = $"{caches} NR {nr}: {blocks}";
                        long effectiveL1 = l1 > 0 ? l1 : CacheSizes.Default.L1Data, effectiveL2 = Math.Max(l2, effectiveL1);
                        long effectiveL3 = Math.Max(l3, effectiveL2);

                        Assert.True(blocks.KC % 8 == 0 && blocks.KC >= GemmBlocking.MinKC && blocks.KC <= GemmBlocking.MaxKC, context);
                        Assert.True(blocks.KC == GemmBlocking.MinKC || (long)MR * blocks.KC * sizeof(float) <= effectiveL1 / 2, context);
                        Assert.True(blocks.MC % MR == 0 && blocks.MC >= MR && blocks.MC <= GemmBlocking.MaxMC, context);
                        Assert.True(blocks.MC == MR || (long)blocks.MC * blocks.KC * sizeof(float) <= effectiveL2 / 2, context);
                        Assert.True(blocks.NC % nr == 0 && blocks.NC >= nr && blocks.NC <= GemmBlocking.MaxNC, context);
                        Assert.True(blocks.NC == nr || (long)blocks.NC * blocks.KC * sizeof(float) <= effectiveL3 / 2, context);

                        // Bigger caches never shrink a block.
                        GemmBlocking bigger = GemmBlocking.For(new CacheSizes(2 * effectiveL1, 2 * effectiveL2, 2 * effectiveL3), MR, nr);
                        Assert.True(bigger.KC >= blocks.KC, context);
                    }
                }
            }
        }
    }

    [Fact]
    public void RejectsEmptyRegisterBlocks()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmBlocking.For(CacheSizes.Default, 0, 32));
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmBlocking.For(CacheSizes.Default, MR, -1));
    }

    [Fact]
    public void ReadsLinuxCacheFolders()
    {
        string root = Directory.CreateTempSubdirectory("netcompiler-cache").FullName;
        try
        {
            Assert.Null(CacheSizes.FromSysfs(Path.Combine(root, "missing")));
            WriteCache(root, 1, 3, "Unified", "300M", "0-1");
            Assert.Null(CacheSizes.FromSysfs(root)); // no L1 data cache

            WriteCache(root, 0, 1, "Data", "48K", "0");
            WriteCache(root, 1, 1, "Instruction", "32K", "0");
            WriteCache(root, 2, 2, "Unified", "2048K", "0");
            WriteCache(root, 3, 3, "Unified", "307200K", "0-1");
            Assert.Equal(new CacheSizes(48 * KiB, 2 * MiB, 150 * MiB), CacheSizes.FromSysfs(root));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Theory]
    [InlineData("48K", 48 * KiB)]
    [InlineData("2048K\n", 2 * MiB)]
    [InlineData("300M", 300 * MiB)]
    [InlineData("1G", 1L << 30)]
    [InlineData("4096", 4096L)]
    [InlineData("", null)]
    [InlineData("K", null)]
    [InlineData("0K", null)]
    [InlineData("-4K", null)]
    [InlineData("12X", null)]
    public void ParsesCacheSizes(string text, long? expected) => Assert.Equal(expected, CacheSizes.ParseSize(text));

    [Theory]
    [InlineData("0", 1)]
    [InlineData("0-1\n", 2)]
    [InlineData("0-3,8,10-11", 7)]
    [InlineData("3-1", 0)]
    [InlineData("a", 0)]
    [InlineData("1-2-3", 0)]
    public void CountsSharingProcessors(string list, int expected) => Assert.Equal(expected, CacheSizes.CountProcessors(list));

    [Fact]
    public void CpuidAgreesWithTheOsOnTheL1()
    {
        // Both describe processor 0's own L1 data cache; a machine that offers only one of them has nothing to compare.
        if (CacheSizes.FromSysfs("/sys/devices/system/cpu/cpu0/cache") is { } os && CacheSizes.FromCpuid() is { } cpuid)
        {
            Assert.Equal(os.L1Data, cpuid.L1Data);
        }
    }

    private static void WriteCache(string root, int index, int level, string type, string size, string shared)
    {
        string folder = Directory.CreateDirectory(Path.Combine(root, $"index{index}")).FullName;
        File.WriteAllText(Path.Combine(folder, "level"), $"{level}\n");
        File.WriteAllText(Path.Combine(folder, "type"), $"{type}\n");
        File.WriteAllText(Path.Combine(folder, "size"), $"{size}\n");
        File.WriteAllText(Path.Combine(folder, "shared_cpu_list"), $"{shared}\n");
    }
}
