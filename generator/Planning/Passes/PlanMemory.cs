using System;
using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning.Passes;

/// <summary>
/// Storage by liveness. An execution is what one public call runs (Forward, TrainStep, InputGradient ...); in each, a
/// buffer lives from the call that first writes it to the last that reads it, or to the end when it is pinned (what
/// LayerOutput, LayerGradient and the returned spans show after the call). Two buffers of one element type share a
/// slot when their lifetimes are disjoint in every execution. A call never reads and writes one slot through two
/// buffers (lifetimes include both ends), except an input it declares read before it writes the same elements
/// (<see cref="Call.ReadBeforeWritten"/>), whose life ends just before it. Derived weights live across calls and keep
/// their own slots.
/// </summary>
internal static class PlanMemory
{
    public static MemoryPlan Run(IReadOnlyList<ProgramBuffer> buffers, IReadOnlyList<IReadOnlyList<Call>> executions, ISet<int> pinned, ISet<int> seeded)
    {
        int count = buffers.Max(b => b.Id) + 1;
        var interferes = new HashSet<(int, int)>();
        foreach (IReadOnlyList<Call> execution in executions)
        {
            List<(int Id, int Start, int End)> lives = Lifetimes(execution, buffers, pinned, seeded);
            for (int a = 0; a < lives.Count; a++)
            {
                for (int b = a + 1; b < lives.Count; b++)
                {
                    if (lives[a].Start <= lives[b].End && lives[b].Start <= lives[a].End)
                    {
                        interferes.Add((Math.Min(lives[a].Id, lives[b].Id), Math.Max(lives[a].Id, lives[b].Id)));
                    }
                }
            }
        }

        // First fit, largest first: a slot takes a buffer that interferes with none of its members. Derived weights
        // live across calls, so their slots take nothing else.
        int[] slotOf = Enumerable.Repeat(-1, count).ToArray();
        var slots = new List<StorageSlot>();
        var members = new List<List<int>>();
        var shared = new List<bool>();
        IEnumerable<ProgramBuffer> largestFirst = buffers.Where(b => b.Role != BufferRole.Input)
            .OrderByDescending(b => b.PerImage).ThenByDescending(b => b.Elements).ThenBy(b => b.Id);
        foreach (ProgramBuffer buffer in largestFirst)
        {
            bool derived = buffer.Role == BufferRole.Derived;
            int slot = derived ? -1 : slots.FindIndex(s => shared[s.Index] && s.Type == buffer.Type && s.PerImage == buffer.PerImage
                && !members[s.Index].Any(other => interferes.Contains((Math.Min(other, buffer.Id), Math.Max(other, buffer.Id)))));
            if (slot < 0)
            {
                slot = slots.Count;
                slots.Add(new StorageSlot(slot, buffer.Type, buffer.Elements, buffer.PerImage));
                members.Add([]);
                shared.Add(!derived);
            }

            members[slot].Add(buffer.Id);
            slotOf[buffer.Id] = slot;
        }

        return new MemoryPlan(slotOf.ToEquatableArray(), slots.ToEquatableArray());
    }

    /// <summary>Each touched buffer's first and last call index in one execution; a read before any write is a planning bug.</summary>
    private static List<(int Id, int Start, int End)> Lifetimes(IReadOnlyList<Call> execution, IReadOnlyList<ProgramBuffer> buffers, ISet<int> pinned, ISet<int> seeded)
    {
        var start = new Dictionary<int, int>();
        var end = new Dictionary<int, int>();
        var kept = new HashSet<int>(buffers.Where(b => b.Role is BufferRole.Input or BufferRole.Derived).Select(b => b.Id));
        Dictionary<int, string> names = buffers.ToDictionary(b => b.Id, b => b.Name);
        foreach (int id in seeded)
        {
            start[id] = end[id] = 0;
        }

        for (int index = 0; index < execution.Count; index++)
        {
            foreach (BufferOperand read in execution[index].Inputs.OfType<BufferOperand>())
            {
                if (!kept.Contains(read.Id) && !start.ContainsKey(read.Id))
                {
                    throw new InvalidOperationException($"'{names[read.Id]}' is read by {execution[index].Op} before any call writes it.");
                }

                end[read.Id] = read.Equals(execution[index].ReadBeforeWritten) ? index - 1 : index;
            }

            foreach (BufferOperand written in execution[index].Outputs.OfType<BufferOperand>())
            {
                if (!start.ContainsKey(written.Id))
                {
                    start[written.Id] = index;
                }

                end[written.Id] = Math.Max(index, end.TryGetValue(written.Id, out int last) ? last : index);
            }
        }

        return start.Keys.Where(id => !kept.Contains(id)).OrderBy(id => id)
            .Select(id => (id, start[id], pinned.Contains(id) ? execution.Count : end[id])).ToList();
    }
}
