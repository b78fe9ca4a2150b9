using System;
using System.Globalization;
using System.IO;
using System.Runtime.Intrinsics.X86;

namespace NetCompiler.Kernels;

/// <summary>
/// The data caches one core sees, in bytes: its own L1 data cache and L2, and its share of the L3 (the L3's size over
/// the number of processors sharing it). Zero where the machine has no such level.
/// </summary>
internal readonly record struct CacheSizes(long L1Data, long L2, long L3PerCore)
{
    /// <summary>Where neither the OS nor CPUID says: a small current x86 core (32 KiB L1d, 1 MiB L2, 2 MiB of L3).</summary>
    public static readonly CacheSizes Default = new(32 << 10, 1 << 20, 2 << 20);

    /// <summary>This machine's caches: Linux's sysfs for processor 0, else CPUID, else <see cref="Default"/>.</summary>
    public static CacheSizes Detect() => FromSysfs("/sys/devices/system/cpu/cpu0/cache") ?? FromCpuid() ?? Default;

    /// <summary>
    /// Reads Linux's cache description, one index* folder per cache with files level, type (Data, Instruction,
    /// Unified), size ("48K") and shared_cpu_list ("0-1,4"). Null when the folder is missing or names no L1 data cache.
    /// </summary>
    public static CacheSizes? FromSysfs(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        long l1 = 0, l2 = 0, l3 = 0;
        try
        {
            foreach (string index in Directory.GetDirectories(directory, "index*"))
            {
                string type = File.ReadAllText(Path.Combine(index, "type")).Trim();
                if (type == "Instruction"
                    || !int.TryParse(File.ReadAllText(Path.Combine(index, "level")).Trim(), CultureInfo.InvariantCulture, out int level)
                    || ParseSize(File.ReadAllText(Path.Combine(index, "size"))) is not long size)
                {
                    continue;
                }

                string shared = Path.Combine(index, "shared_cpu_list");
                int sharing = File.Exists(shared) ? Math.Max(1, CountProcessors(File.ReadAllText(shared))) : 1;
                switch (level)
                {
                    case 1: l1 = size; break;
                    case 2: l2 = size; break;
                    case 3: l3 = size / sharing; break;
                }
            }
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return l1 > 0 ? new CacheSizes(l1, l2, l3) : null;
    }

    /// <summary>
    /// CPUID's deterministic cache parameters: leaf 4 on Intel, 0x8000001D on AMD, one subleaf per cache; size = ways x
    /// partitions x line size x sets, the L3 divided by the processors the leaf says share it. Null off x86 or for
    /// other vendors.
    /// </summary>
    public static CacheSizes? FromCpuid()
    {
        if (!X86Base.IsSupported)
        {
            return null;
        }

        (int maxLeaf, int vendorB, int vendorC, int vendorD) = X86Base.CpuId(0, 0);
        bool intel = vendorB == 0x756E6547 && vendorD == 0x49656E69 && vendorC == 0x6C65746E; // "GenuineIntel"
        bool amd = vendorB == 0x68747541 && vendorD == 0x69746E65 && vendorC == 0x444D4163;   // "AuthenticAMD"
        int leaf = intel && maxLeaf >= 4 ? 4
            : amd && X86Base.CpuId(unchecked((int)0x80000000), 0).Eax >= unchecked((int)0x8000001D) ? unchecked((int)0x8000001D)
            : 0;
        if (leaf == 0)
        {
            return null;
        }

        long l1 = 0, l2 = 0, l3 = 0;
        for (int subleaf = 0; subleaf < 16; subleaf++)
        {
            (int eax, int ebx, int ecx, _) = X86Base.CpuId(leaf, subleaf);
            int type = eax & 0x1F; // 0 none (the end of the list), 1 data, 2 instruction, 3 unified
            if (type == 0)
            {
                break;
            }

            if (type == 2)
            {
                continue;
            }

            long size = (long)(((uint)ebx >> 22) + 1) * ((((uint)ebx >> 12) & 0x3FF) + 1) * ((uint)(ebx & 0xFFF) + 1) * ((uint)ecx + 1);
            int sharing = (int)(((uint)eax >> 14) & 0xFFF) + 1;
            switch ((eax >> 5) & 0x7)
            {
                case 1: l1 = size; break;
                case 2: l2 = size; break;
                case 3: l3 = size / sharing; break;
            }
        }

        return l1 > 0 ? new CacheSizes(l1, l2, l3) : null;
    }

    /// <summary>"48K", "2048K", "300M" or a plain byte count; null when it is none of these.</summary>
    internal static long? ParseSize(string text)
    {
        text = text.Trim();
        long unit = text.EndsWith('K') ? 1L << 10 : text.EndsWith('M') ? 1L << 20 : text.EndsWith('G') ? 1L << 30 : 1;
        string digits = unit == 1 ? text : text[..^1];
        return long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value) && value > 0 ? value * unit : null;
    }

    /// <summary>How many processors a list such as "0-3,8,10-11" names; 0 when it is malformed.</summary>
    internal static int CountProcessors(string list)
    {
        int count = 0;
        foreach (string part in list.Trim().Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-');
            if (!int.TryParse(range[0], NumberStyles.None, CultureInfo.InvariantCulture, out int first))
            {
                return 0;
            }

            int last = first;
            if ((range.Length == 2 && !int.TryParse(range[1], NumberStyles.None, CultureInfo.InvariantCulture, out last)) || range.Length > 2 || last < first)
            {
                return 0;
            }

            count += last - first + 1;
        }

        return count;
    }
}

/// <summary>
/// GEMM cache blocking derived from the caches, after BLIS's analytical model (Low et al., "Analytical modeling is
/// enough for high-performance BLIS", TOMS 2016). The loops are jc (NC columns of B) > pc (KC of depth) > ic (MC rows
/// of A) > jr (one NR-column micro-panel of B) > ir (one MR-row micro-panel of A): a packed KC x NR micro-panel of B
/// is reused by every micro-panel of the MC x KC block of A, which is reused by every micro-panel of the KC x NC
/// block of B.
/// </summary>
internal readonly record struct GemmBlocking(int KC, int MC, int NC)
{
    // Bounds that keep a blocking sane on machines whose caches are reported oddly (VMs report whole-host L3s):
    // a depth below 64 pays the C tile's loads and stores too often, the upper bounds cap the packing buffers.
    internal const int MinKC = 64;
    internal const int MaxKC = 1024;
    internal const int MaxMC = 4096;
    internal const int MaxNC = 8192;

    /// <summary>
    /// KC: the MR x KC micro-panel of A takes at most half of L1, rounded down to 8. The textbook bound (the KC x NR
    /// micro-panel of B in half of L1: KC 184 on a 48 KiB L1 at NR 32) loses here: on the Xeon this was tuned on
    /// (48 KiB L1d, 2 MiB L2, one thread, 2048^3) KC 184 ran at 95-105 GFLOP/s, 256 at 104-112, 512 at 120-125 and
    /// 1024 at 128-132, because the C tile is loaded and stored once per depth slice (from L3 or memory at large N),
    /// while the B micro-panel streams from L2 well enough at 2 vector loads per 2 MR FMAs.
    /// MC: the MC x KC block of A takes half of L2 (the rest holds the B micro-panels coming through and C), rounded
    /// down to MR. NC: the KC x NC block of B takes half of this core's share of L3, rounded down to NR.
    /// Each is clamped to [one register block, Max*]; a missing L2 or L3 counts as the level below it.
    /// </summary>
    public static GemmBlocking For(CacheSizes caches, int mr, int nr)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(mr);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nr);
        long l1 = caches.L1Data > 0 ? caches.L1Data : CacheSizes.Default.L1Data;
        long l2 = Math.Max(caches.L2, l1);
        long l3 = Math.Max(caches.L3PerCore, l2);

        long kc = l1 / 2 / ((long)mr * sizeof(float));
        int depth = (int)Math.Clamp(kc / 8 * 8, MinKC, MaxKC);
        long mc = l2 / 2 / ((long)depth * sizeof(float));
        long nc = l3 / 2 / ((long)depth * sizeof(float));
        return new GemmBlocking(
            depth,
            (int)Math.Clamp(mc / mr * mr, mr, MaxMC / mr * mr),
            (int)Math.Clamp(nc / nr * nr, nr, MaxNC / nr * nr));
    }
}
