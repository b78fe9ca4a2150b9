using System;
using System.Runtime.InteropServices;

namespace NetCompiler;

/// <summary>
/// The processes of one data-parallel job, over MPI: MPI.NET on Debian's MPICH, whose handle ABI it shares with
/// MS-MPI (so its "msmpi.dll" resolves to libmpich.so.12; Open MPI's ABI differs). Started outside mpiexec it is a
/// group of one and loads no MPI at all, so the same program runs alone. A rank that fails with an unhandled exception
/// prints which rank it was and aborts the whole job, so no other rank waits for it forever. It calls MPI.Unsafe's
/// P/Invokes, not MPI.NET's typed collectives, whose datatype mapping and serializer use reflection, Reflection.Emit and
/// BinaryFormatter: so a NativeAOT publish trims those away and stays free of warnings.
/// </summary>
/// <example>
/// <code>
/// using var group = ProcessGroup.Mpi(ref args);
/// using var net = new FashionNet(batchSize: 64, seed: 1);
/// net.Distribute(group);                       // rank 0's weights everywhere; gradients averaged every step
/// var batches = train.Batches(64, seed: 1, rank: group.Rank, ranks: group.Size);
/// </code>
/// </example>
public sealed unsafe class ProcessGroup : IDisposable
{
    /// <summary>MPICH's (and MS-MPI's) MPI_IN_PLACE: (void*)-1.</summary>
    private static readonly nint InPlace = -1;
    private static bool s_resolverSet;

    private readonly MPI.Environment? _environment;
    private bool _disposed;

    private ProcessGroup(MPI.Environment? environment, int rank, int size)
    {
        _environment = environment;
        Rank = rank;
        Size = size;
    }

    /// <summary>This process's place in the group, 0 to <see cref="Size"/> - 1; rank 0 alone prints and writes files.</summary>
    public int Rank { get; }

    public int Size { get; }

    /// <summary>Rank 0, the one that prints, saves checkpoints and writes files.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>A group of one process: every collective is the identity.</summary>
    public static ProcessGroup Single() => new(null, 0, 1);

    /// <summary>
    /// The MPI world when started by mpiexec (MPI_Init, which may take MPI's own arguments out of <paramref name="args"/>),
    /// else a group of one.
    /// </summary>
    /// <exception cref="DllNotFoundException">Started under mpiexec without Debian's mpich (libmpich.so.12).</exception>
    public static ProcessGroup Mpi(ref string[] args)
    {
        if (Environment.GetEnvironmentVariable("PMI_SIZE") is null && Environment.GetEnvironmentVariable("PMI_RANK") is null)
        {
            return Single();
        }

        ResolveMpich();
        var environment = new MPI.Environment(ref args);
        var group = new ProcessGroup(environment, MPI.Communicator.world.Rank, MPI.Communicator.world.Size);
        AppDomain.CurrentDomain.UnhandledException += (_, failure) =>
        {
            Console.Error.WriteLine($"NetCompiler: rank {group.Rank} of {group.Size} failed, aborting the job: {failure.ExceptionObject}");
            Console.Error.Flush();
            MPI.Unsafe.MPI_Abort(MPI.Unsafe.MPI_COMM_WORLD, 1);
        };
        return group;
    }

    /// <summary>Sums <paramref name="values"/> over the ranks, in place: every rank ends with the same sums.</summary>
    public void AllReduceSum(Span<float> values)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_environment is null || values.IsEmpty)
        {
            return;
        }

        fixed (float* data = values)
        {
            Check(MPI.Unsafe.MPI_Allreduce(InPlace, (nint)data, values.Length, MPI.Unsafe.MPI_FLOAT, MPI.Unsafe.MPI_SUM, MPI.Unsafe.MPI_COMM_WORLD), "MPI_Allreduce");
        }
    }

    /// <summary>Sends rank <paramref name="root"/>'s <paramref name="values"/> to every rank.</summary>
    public void Broadcast(Span<float> values, int root = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_environment is null || values.IsEmpty)
        {
            return;
        }

        fixed (float* data = values)
        {
            Check(MPI.Unsafe.MPI_Bcast((nint)data, values.Length, MPI.Unsafe.MPI_FLOAT, root, MPI.Unsafe.MPI_COMM_WORLD), "MPI_Bcast");
        }
    }

    /// <summary>Sends rank <paramref name="root"/>'s <paramref name="values"/> to every rank.</summary>
    public void Broadcast(Span<long> values, int root = 0)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_environment is null || values.IsEmpty)
        {
            return;
        }

        fixed (long* data = values)
        {
            Check(MPI.Unsafe.MPI_Bcast((nint)data, values.Length, MPI.Unsafe.MPI_LONG_LONG, root, MPI.Unsafe.MPI_COMM_WORLD), "MPI_Bcast");
        }
    }

    /// <summary>Waits until every rank has arrived.</summary>
    public void Barrier()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_environment is not null)
        {
            Check(MPI.Unsafe.MPI_Barrier(MPI.Unsafe.MPI_COMM_WORLD), "MPI_Barrier");
        }
    }

    /// <summary>Ends MPI (MPI_Finalize) once every rank is done.</summary>
    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _environment?.Dispose();
        }
    }

    private void Check(int result, string call)
    {
        if (result != MPI.Unsafe.MPI_SUCCESS)
        {
            throw new InvalidOperationException($"{call} failed on rank {Rank} of {Size} with MPI error {result}.");
        }
    }

    /// <summary>MPI.NET binds "msmpi.dll"; on Linux that is MPICH's library, which shares its ABI.</summary>
    private static void ResolveMpich()
    {
        if (s_resolverSet)
        {
            return;
        }

        s_resolverSet = true;
        NativeLibrary.SetDllImportResolver(typeof(MPI.Unsafe).Assembly, static (name, _, _) =>
        {
            if (!name.StartsWith("msmpi", StringComparison.OrdinalIgnoreCase))
            {
                return 0;
            }

            if (!NativeLibrary.TryLoad("libmpich.so.12", out nint handle))
            {
                throw new DllNotFoundException("Running under mpiexec needs MPICH's libmpich.so.12: install Debian's mpich (apt-get install mpich).");
            }

            return handle;
        });
    }
}
