using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Planning.Passes;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Planning;

/// <summary>What planning yields: the program when the backend can run it, and the diagnostics of that check.</summary>
internal sealed record PlanResult(KernelProgram? Program, EquatableArray<DiagnosticInfo> Diagnostics);

/// <summary>
/// Checked network in, kernel program out, through small pure passes in TVM's manner: lower (composites to
/// primitives), fuse epilogues, simplify inference, fold batch norm, derive backward, drop dead buffers, plan memory.
/// </summary>
internal static class Planner
{
    public static PlanResult Plan(CheckedNetwork network, Backend backend)
    {
        var diagnostics = new List<DiagnosticInfo>();
        LoweredNetwork lowered = FuseEpilogues.Run(Lowering.Lower(network, backend, diagnostics));
        if (diagnostics.Count > 0)
        {
            return new PlanResult(null, diagnostics.ToEquatableArray());
        }

        var buffers = new BufferTable(lowered.Buffers, lowered.Sizes);
        var gradients = new Dictionary<int, int>();
        int scores = lowered.Scores;
        BufferOperand scoresGradient = DeriveBackward.GradientBuffer(buffers, gradients, scores);
        BufferOperand inputGradient = DeriveBackward.GradientBuffer(buffers, gradients, KernelProgram.InputBuffer);

        EquatableArray<Call> evaluation = SimplifyInference.Run(lowered.Forward);
        FoldedInference folded = FoldBatchNorm.Run(evaluation, lowered.Tensors, lowered.Layers, buffers);
        bool folds = folded.Fold.Count > 0;
        EquatableArray<Call> evaluationBackward = DeriveBackward.Run(evaluation, scores, buffers, gradients, lowered.Tensors, parameterGradients: false, inputGradient: true);
        EquatableArray<Call> training = Training(lowered, buffers, gradients, scoresGradient);

        // Forward fuses what training could not (SiLU); the gradient entry points keep the unfused routine, whose
        // buffers the evaluation backward reads (InferenceUnfolded stays unfused, serving both).
        EquatableArray<Call> inference = folds ? folded.Inference : evaluation;
        var keptOutputs = new HashSet<int>(folded.Layers.Where(v => network.Spec.Keep.Contains(v.Layer)).Select(v => v.Output).OfType<int>());
        EquatableArray<Call> fused = FuseEpilogues.Inference(inference, keptOutputs);
        var routines = new Routines(fused, folds ? evaluation : EquatableArray<Call>.Empty, folded.Fold, training, evaluationBackward)
        {
            InferenceForGradients = fused.Count < inference.Count ? inference : EquatableArray<Call>.Empty,
        };

        EquatableArray<LayerView> views = folded.Layers.Select(v => v with
        {
            Gradient = v.GradientOf is int of && gradients.TryGetValue(of, out int g) ? g : null,
            Kept = network.Spec.Keep.Contains(v.Layer),
        }).ToEquatableArray();

        // What the caller reads after a call: the scores, d(scores), d(images) and the kept layers. The rest shares storage.
        var pinned = new HashSet<int>(views.Where(v => v.Kept).SelectMany(v => new[] { v.Output, v.Gradient }).OfType<int>())
        {
            scores, scoresGradient.Id, inputGradient.Id,
        };
        List<ProgramBuffer> live = DropDeadBuffers.Run(buffers.ToEquatableArray(), routines);

        var seeded = new HashSet<int> { scoresGradient.Id };
        // What each public call runs: Forward, TrainStep, and InputGradient or ScoreGradient (forward, seed, backward).
        var executions = new List<IReadOnlyList<Call>> { routines.Inference, routines.Training, routines.GradientForward.Concat(routines.EvaluationBackward).ToList() };
        if (folds)
        {
            executions.Add(routines.InferenceUnfolded);
            executions.Add(routines.InferenceUnfolded.Concat(routines.EvaluationBackward).ToList());
        }

        MemoryPlan memory = PlanMemory.Run(live, executions, pinned, seeded);
        var inferenceOnly = new HashSet<int>(routines.Inference.SelectMany(c => c.Inputs.Concat(c.Outputs)).OfType<BufferOperand>().Select(b => b.Id));
        MemoryPlan inferenceMemory = PlanMemory.Run(live.Where(b => inferenceOnly.Contains(b.Id)).ToList(), [routines.Inference], pinned, new HashSet<int>());

        EquatableArray<SizeConstant> sizes = buffers.Sizes.Where(size => live.Any(b => b.Size == size)).ToEquatableArray();
        var program = new KernelProgram(network, sizes, live.ToEquatableArray(), lowered.Tensors, lowered.Shapes, routines, views,
            pinned.OrderBy(id => id).ToEquatableArray(), memory, inferenceMemory.BytesPerImage)
        {
            InputGradientBuffer = inputGradient.Id,
            ScoresBuffer = scores,
            ScoresGradientBuffer = scoresGradient.Id,
        };
        return new PlanResult(program, EquatableArray<DiagnosticInfo>.Empty);
    }

    /// <summary>
    /// The training routine: forward, loss, the check that throws before anything the network keeps has changed, the
    /// commit of that state (running statistics, counters, the dropout generator), backward and the update.
    /// </summary>
    private static EquatableArray<Call> Training(LoweredNetwork lowered, BufferTable buffers, Dictionary<int, int> gradients, BufferOperand scoresGradient)
    {
        var calls = new List<Call>(lowered.Forward)
        {
            new LossAndGradient(lowered.Network.Spec.Loss, new BufferOperand(lowered.Scores), scoresGradient) { Layer = "loss" },
            new CheckLoss { Layer = "loss" },
        };
        calls.AddRange(lowered.Forward.OfType<BatchNormTraining>().Select(norm => new BatchNormCommit(norm.Norm, norm.SavedMean, norm.SavedVariance) { Layer = norm.Layer }));
        calls.Add(new CommitStep { Layer = "loss" });
        calls.AddRange(DeriveBackward.Run(lowered.Forward, lowered.Scores, buffers, gradients, lowered.Tensors, parameterGradients: true, inputGradient: false));
        calls.Add(new OptimizerStep { Layer = "update" });
        return calls.ToEquatableArray();
    }
}
