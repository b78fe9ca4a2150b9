using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Checking;
using NetCompiler.Generator.Model;
using NetCompiler.Generator.Parsing;
using NetCompiler.Generator.Planning;
using NetCompiler.Generator.Planning.Passes;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Tests;

/// <summary>Planning's passes one by one, each checked on the printed calls before and after it.</summary>
public sealed class PlannerTests
{
    private static readonly SourceSpan Nowhere = new("Net.cs", 0, 0, 0, 0, 0, 0);

    [Fact]
    public void LoweringGivesOnePrimitiveCallPerLayerAndFusionPutsEachReluIntoTheKernelBefore()
    {
        LoweredNetwork lowered = Lower("CONV 8 3x3 -> RELU -> POOL 2 -> RELU -> FC 16 -> RELU -> FC 10");
        Assert.Equal(
            ["conv2d(%images, @features.0.weight, @features.0.bias) -> %features.0.output  Features_0Shape",
             "relu(%features.0.output) -> %features.1.output",
             "max_pool2d(%features.1.output) -> %features.2.output, %features.2.switches  Features_2Shape",
             "relu(%features.2.output) -> %features.3.output",
             "dense(%features.3.output, @classifier.0.weight, @classifier.0.bias) -> %classifier.0.output  Classifier_0Shape",
             "relu(%classifier.0.output) -> %classifier.1.output",
             "dense(%classifier.1.output, @classifier.2.weight, @classifier.2.bias) -> %classifier.2.output  Classifier_2Shape"],
            Print(lowered, lowered.Forward));

        LoweredNetwork fused = FuseEpilogues.Run(lowered);
        // A ReLU after pooling stays a call of its own; after conv and dense it is their epilogue.
        Assert.Equal(
            ["conv2d(%images, @features.0.weight, @features.0.bias) -> %features.1.output  Features_0Shape +relu",
             "max_pool2d(%features.1.output) -> %features.2.output, %features.2.switches  Features_2Shape",
             "relu(%features.2.output) -> %features.3.output",
             "dense(%features.3.output, @classifier.0.weight, @classifier.0.bias) -> %classifier.1.output  Classifier_0Shape +relu",
             "dense(%classifier.1.output, @classifier.2.weight, @classifier.2.bias) -> %classifier.2.output  Classifier_2Shape"],
            Print(fused, fused.Forward));
        LayerView conv = fused.Layers[0], relu = fused.Layers[1];
        Assert.Equal((null, "features.1"), (conv.Output, conv.OutputKeptBy));
        Assert.Equal((null, "features.0"), (relu.GradientOf, relu.GradientKeptBy));
    }

    [Fact]
    public void EveryActivationWhoseDerivativeFollowsFromItsOutputFusesInTrainingButSilu()
    {
        LoweredNetwork fused = FuseEpilogues.Run(Lower("CONV 4 3x3 -> LEAKYRELU 0.1 -> CONV 4 3x3 -> BN -> ELU 0.5 -> SIGMOID -> CONV 4 3x3 -> SILU -> "
            + "CONVT 4 3x3 -> RELU6 -> FC 8 -> TANH -> FC 2"));
        Assert.Equal(
            ["conv2d(%images, @features.0.weight, @features.0.bias) -> %features.1.output  Features_0Shape +leaky_relu(0.1)",
             "conv2d(%features.1.output, @features.2.weight, @features.2.bias) -> %features.2.output  Features_2Shape",
             "batch_norm.training(%features.2.output, @features.3.weight, @features.3.bias) -> %features.4.output, %features.3.saved_mean, "
             + "%features.3.saved_inv_std, %features.3.saved_variance  eps=1E-05 +elu(0.5)",
             // After another activation, an activation is a call of its own; SiLU is one wherever it stands.
             "sigmoid(%features.4.output) -> %features.5.output",
             "conv2d(%features.5.output, @features.6.weight, @features.6.bias) -> %features.6.output  Features_6Shape",
             "silu(%features.6.output) -> %features.7.output",
             "conv_transpose2d(%features.7.output, @features.8.weight, @features.8.bias) -> %features.9.output  Features_8Shape +relu6",
             "dense(%features.9.output, @classifier.0.weight, @classifier.0.bias) -> %classifier.1.output  Classifier_0Shape +tanh",
             "dense(%classifier.1.output, @classifier.2.weight, @classifier.2.bias) -> %classifier.2.output  Classifier_2Shape"],
            Print(fused, fused.Forward));
    }

    [Fact]
    public void ActivationBackwardsReadTheOutputButSilusReadsItsInput()
    {
        KernelProgram program = Plan("CONV 4 3x3 -> ELU -> SIGMOID -> CONV 4 3x3 -> SILU -> GAP -> FC 2");
        string[] backward = Print(program, program.Routines.Training.SkipWhile(c => c is not CommitStep).Skip(1));
        // SiLU's from the convolution's output, its input; the sigmoid's from its own output.
        Assert.Contains("copy(%features.4.output.grad) -> %features.3.output.grad", backward);
        Assert.Contains("silu.backward(%features.3.output, %features.3.output.grad) -> %features.3.output.grad", backward);
        Assert.Contains("copy(%features.2.output.grad) -> %features.1.output.grad", backward);
        Assert.Contains("sigmoid.backward(%features.2.output, %features.1.output.grad) -> %features.1.output.grad", backward);
        // The ELU fused into the first convolution, applied in place to the gradient of the output it wrote.
        Assert.Contains("elu.backward(%features.1.output, %features.1.output.grad) -> %features.1.output.grad  alpha=1", backward);
    }

    [Fact]
    public void InferenceFusesSiluWhileTheGradientEntryPointsKeepItsInput()
    {
        KernelProgram program = Plan("CONV 4 3x3 -> BN -> SILU -> CONV 4 3x3 -> SILU -> GAP -> FC 2");
        // The batch norm folds into the first convolution, which then takes the SiLU too; so does the second.
        Assert.Equal(
            ["conv2d(%images, %features.0.folded_weight, %features.0.folded_bias) -> %features.2.output  Features_0Shape +silu",
             "conv2d(%features.2.output, @features.3.weight, @features.3.bias) -> %features.4.output  Features_3Shape +silu"],
            Print(program, program.Routines.Inference.Where(c => c is LinearForward { Kind: LinearOp.Conv2d })));
        Assert.DoesNotContain(program.Routines.Inference, c => c is ActivationForward);
        Assert.Equal(2, program.Routines.InferenceForGradients.Count(c => c is ActivationForward { Activation.Kind: ActivationKind.Silu }));
        Assert.Equal(2, program.Routines.EvaluationBackward.Count(c => c is ActivationBackward { Activation.Kind: ActivationKind.Silu }));
        Assert.DoesNotContain(program.Routines.InferenceUnfolded, c => c.Attributes.Contains("+silu"));

        // A kept layer's output stays computed, so the SiLU after it stays a call of its own.
        CheckedNetwork kept = Check("CONV 4 3x3 -> SILU -> GAP -> FC 2", 16, keep: "features.0");
        KernelProgram keeping = Planner.Plan(kept, Backend.Cpu).Program!;
        Assert.Contains(keeping.Routines.Inference, c => c is ActivationForward);
        Assert.Empty(keeping.Routines.InferenceForGradients);
    }

    [Fact]
    public void WeightsStartAsTheActivationTheyFeedSuggests()
    {
        LoweredNetwork lowered = Lower("CONV 2 3x3 -> RELU -> CONV 2 3x3 -> LEAKYRELU 0.2 -> CONV 2 3x3 -> BN -> ELU -> CONV 2 3x3 -> RELU6 -> "
            + "CONV 2 3x3 -> SILU -> CONV 2 3x3 -> BN -> TANH -> FC 4 -> SIGMOID -> FC 2");
        Assert.Equal(
            [(InitScheme.HeNormal, 0f), (InitScheme.HeNormal, 0.2f), (InitScheme.HeNormal, 0f), (InitScheme.HeNormal, 0f), (InitScheme.HeNormal, 0f),
             (InitScheme.XavierUniform, 0f), (InitScheme.XavierUniform, 0f), (InitScheme.XavierUniform, 0f)],
            lowered.Tensors.Where(t => t.Key.Role == TensorRole.Weight && t.Dimensions.Count > 1).Select(t => (t.Init.Scheme, t.Init.NegativeSlope)));
    }

    [Fact]
    public void SimplifyInferenceRunsBatchNormOnRunningStatisticsAndDropoutAsTheIdentity()
    {
        LoweredNetwork fused = FuseEpilogues.Run(Lower("CONV 8 3x3 -> BN -> RELU -> GAP -> DROPOUT 0.5 -> FC 10"));
        Assert.Contains("batch_norm.training(%features.0.output, @features.1.weight, @features.1.bias) -> %features.2.output, "
            + "%features.1.saved_mean, %features.1.saved_inv_std, %features.1.saved_variance  eps=1E-05 +relu", Print(fused, fused.Forward));
        Assert.Contains("dropout(%features.3.output) -> %classifier.0.output, %classifier.0.mask  p=0.5", Print(fused, fused.Forward));

        EquatableArray<Call> inference = SimplifyInference.Run(fused.Forward);
        Assert.Equal(
            ["conv2d(%images, @features.0.weight, @features.0.bias) -> %features.0.output  Features_0Shape",
             "batch_norm.inference(%features.0.output, @features.1.weight, @features.1.bias, @features.1.running_mean, @features.1.running_var) -> %features.2.output  eps=1E-05 +relu",
             "global_avg_pool(%features.2.output) -> %features.3.output",
             "copy(%features.3.output) -> %classifier.0.output",
             "dense(%classifier.0.output, @classifier.1.weight, @classifier.1.bias) -> %classifier.1.output  Classifier_1Shape"],
            Print(fused, inference));
    }

    [Fact]
    public void BatchNormFoldsIntoAConvOrDenseLayerRightBeforeItAndNowhereElse()
    {
        // Folded: conv -> BN and dense -> BN. Not folded: a BN after a ReLU (the ReLU is in the conv's epilogue),
        // after pooling, or after a transposed conv (its weight rows are input channels).
        LoweredNetwork fused = FuseEpilogues.Run(Lower("CONV 8 3x3 -> BN -> RELU -> CONV 8 3x3 -> RELU -> BN -> POOL 2 -> BN -> CONVT 4 2x2 stride=2 -> BN -> GAP -> FC 16 -> BN -> FC 2"));
        var buffers = new BufferTable(fused.Buffers, fused.Sizes);
        FoldedInference folded = FoldBatchNorm.Run(SimplifyInference.Run(fused.Forward), fused.Tensors, fused.Layers, buffers);
        Assert.Equal(
            ["batch_norm.fold(@features.0.weight, @features.0.bias, @features.1.weight, @features.1.bias, @features.1.running_mean, @features.1.running_var) -> %features.0.folded_weight, %features.0.folded_bias",
             "batch_norm.fold(@classifier.0.weight, @classifier.0.bias, @classifier.1.weight, @classifier.1.bias, @classifier.1.running_mean, @classifier.1.running_var) -> %classifier.0.folded_weight, %classifier.0.folded_bias"],
            folded.Fold.Select(c => ProgramText.Call(Program(fused, buffers), c)));
        Assert.Equal("conv2d(%images, %features.0.folded_weight, %features.0.folded_bias) -> %features.2.output  Features_0Shape +relu",
            ProgramText.Call(Program(fused, buffers), folded.Inference[0]));
        Assert.Equal(3, folded.Inference.Count(c => c is BatchNormInference));
        Assert.Equal(["features.1", "classifier.1"], folded.Layers.Where(v => v.FoldedInto is not null).Select(v => v.FoldedInto));
    }

    [Fact]
    public void TheBackwardOfAResidualStepSumsTheSkipAndTheBranchAndBothUsesOfK()
    {
        KernelProgram program = Plan("CONV 4 3x3 -> RESIDUAL steps=1 symmetric=true -> GAP -> FC 2");
        string[] backward = Print(program, program.Routines.Training.SkipWhile(c => c is not CommitStep).Skip(1));
        Assert.Equal(
            ["dense.backward_weight(%features.2.output, %classifier.0.output.grad) -> @classifier.0.weight.grad, @classifier.0.bias.grad  Classifier_0Shape",
             "dense.backward_data(%classifier.0.output.grad, @classifier.0.weight) -> %features.2.output.grad  Classifier_0Shape",
             "global_avg_pool.backward(%features.2.output.grad) -> %features.1.0.output.grad",
             // y = x + h K^T relu(BN(K x)): the branch gets h dy; the skip's dy is held for the sum below.
             "scale(%features.1.0.output.grad) -> %features.1.0.branch.grad  factor=1",
             "conv_transpose2d.backward_weight(%features.1.0.bn, %features.1.0.branch.grad) -> @features.1.0.conv1.weight.grad, _  Features_1Shape",
             "conv_transpose2d.backward_data(%features.1.0.branch.grad, @features.1.0.conv1.weight) -> %features.1.0.bn.grad  Features_1Shape",
             // The ReLU fused into the batch norm runs its backward inside the batch norm's, on dy in place.
             "batch_norm.backward(%features.1.0.bn.grad, %features.1.0.conv, @features.1.0.bn.weight, %features.1.0.bn.saved_mean, %features.1.0.bn.saved_inv_std, %features.1.0.bn) -> %features.1.0.conv.grad, @features.1.0.bn.weight.grad, @features.1.0.bn.bias.grad, %features.1.0.bn.grad  +relu",
             // K's second use writes scratch, added to its first.
             "conv2d.backward_weight(%features.0.output, %features.1.0.conv.grad) -> %features.1.0.conv1.weight.grad_part, _  Features_1Shape",
             "add_scaled(@features.1.0.conv1.weight.grad, %features.1.0.conv1.weight.grad_part) -> @features.1.0.conv1.weight.grad  scale=1",
             "conv2d.backward_data(%features.1.0.conv.grad, @features.1.0.conv1.weight) -> %features.0.output.grad_part  Features_1Shape",
             "add_scaled(%features.1.0.output.grad, %features.0.output.grad_part) -> %features.0.output.grad  scale=1",
             // The first layer's data gradient is skipped in training: nothing asks for d(images).
             "conv2d.backward_weight(%images, %features.0.output.grad) -> @features.0.weight.grad, @features.0.bias.grad  Features_0Shape",
             "optimizer_step()"],
            backward);
        Assert.Contains(program.Routines.EvaluationBackward, c => c is LinearBackwardData { DX: BufferOperand dx } && dx.Id == program.InputGradientBuffer);
        Assert.DoesNotContain(program.Routines.EvaluationBackward, c => c is LinearBackwardWeight or BatchNormBackward);
    }

    [Fact]
    public void ABlocksAddAndReluFuseIntoTheBatchNormBeforeThemAndTheirBackwardSumsTheSkip()
    {
        const string Blueprint = "CONV 4 3x3 -> BASICBLOCK 4 -> BASICBLOCK 8 stride=2 -> GAP -> FC 2";
        LoweredNetwork lowered = Lower(Blueprint);
        string[] before = Print(lowered, lowered.Forward);
        Assert.Contains("add_scaled(%features.0.output, %features.1.0.bn2) -> %features.1.0.sum  scale=1", before);
        Assert.Contains("relu(%features.1.0.sum) -> %features.1.0.output", before);
        Assert.Contains("add_scaled(%features.2.0.downsample.1, %features.2.0.bn2) -> %features.2.0.sum  scale=1", before);

        LoweredNetwork fused = FuseEpilogues.Run(lowered);
        Assert.Equal(before.Length - 4, fused.Forward.Count);
        Assert.DoesNotContain(fused.Forward, c => c is AddScaled or ActivationForward);
        string[] after = Print(fused, fused.Forward);
        // The identity block: its second batch norm adds the block's input, then applies the ReLU, writing the output.
        Assert.Contains("batch_norm.training(%features.1.0.conv2, @features.1.0.bn2.weight, @features.1.0.bn2.bias, %features.0.output) -> %features.1.0.output, "
            + "%features.1.0.bn2.saved_mean, %features.1.0.bn2.saved_inv_std, %features.1.0.bn2.saved_variance  eps=1E-05 +add +relu", after);
        // The projection block: the shortcut's batch norm is the one right before the add, so the main path is its residual.
        Assert.Contains("batch_norm.training(%features.2.0.downsample.0, @features.2.0.downsample.1.weight, @features.2.0.downsample.1.bias, %features.2.0.bn2) "
            + "-> %features.2.0.output, %features.2.0.downsample.1.saved_mean, %features.2.0.downsample.1.saved_inv_std, %features.2.0.downsample.1.saved_variance  "
            + "eps=1E-05 +add +relu", after);

        KernelProgram program = Planner.Plan(Check(Blueprint, 16), Backend.Cpu).Program!;
        // Inference: the batch norms fold into the convolutions, which take the residual and the ReLU with them.
        Assert.Contains("conv2d(%features.1.0.bn1, %features.1.0.conv2.folded_weight, %features.1.0.conv2.folded_bias, %features.0.output) -> %features.1.0.output  "
            + "Features_1_0_conv1Shape +add +relu", Print(program, program.Routines.Inference));

        // Backward: the mask in place from the output, then the skip's identity (held, then summed with the first
        // convolution's data gradient), then the batch norm's own backward from the same masked gradient.
        string[] backward = Print(program, program.Routines.Training.SkipWhile(c => c is not CommitStep).Skip(1));
        int mask = System.Array.IndexOf(backward, "relu.backward(%features.1.0.output, %features.1.0.output.grad) -> %features.1.0.output.grad");
        Assert.True(mask >= 0);
        Assert.StartsWith("batch_norm.backward(%features.1.0.output.grad, %features.1.0.conv2, ", backward[mask + 1]);
        Assert.Contains("conv2d.backward_data(%features.1.0.conv1.grad, @features.1.0.conv1.weight) -> %features.0.output.grad_part  Features_1_0_conv1Shape", backward);
        Assert.Contains("add_scaled(%features.1.0.output.grad, %features.0.output.grad_part) -> %features.0.output.grad  scale=1", backward);
        Assert.Contains("copy(%features.2.0.output.grad) -> %features.2.0.bn2.grad", backward);

        // Liveness sees the residual as an input of the producer: its storage is never the output's.
        var norm = (BatchNormTraining)program.Routines.Training.First(c => c is BatchNormTraining { Residual: BufferOperand });
        Assert.NotEqual(program.Memory.SlotOf[((BufferOperand)norm.Residual).Id], program.Memory.SlotOf[norm.Y.Id]);

        // A kept block's output gradient must stay d(output), not the masked one: its ReLU stays a call of its own.
        KernelProgram keeping = Planner.Plan(Check(Blueprint, 16, keep: "features.1"), Backend.Cpu).Program!;
        Assert.Contains("relu(%features.1.0.sum) -> %features.1.0.output", Print(keeping, keeping.Routines.Training));
        Assert.Contains(keeping.Routines.Training, c => c is BatchNormTraining { Residual: BufferOperand, Activation.IsNone: true });
    }

    [Fact]
    public void TheTrainingRoutineChecksTheLossBeforeItCommitsAnyState()
    {
        KernelProgram program = Plan("CONV 4 3x3 -> BN -> RELU -> DROPOUT 0.5 -> GAP -> FC 2");
        string[] ops = program.Routines.Training.Select(c => c.Op).ToArray();
        int check = System.Array.IndexOf(ops, "check_loss");
        Assert.Equal(check - 1, System.Array.IndexOf(ops, "loss"));
        Assert.Equal(["batch_norm.update_running", "commit_step"], ops.Skip(check + 1).Take(2));
        Assert.All(ops.Take(check), op => Assert.DoesNotContain("update", op));
    }

    [Fact]
    public void MemoryPlanningSharesStorageOnlyBetweenBuffersThatAreNeverLiveTogether()
    {
        KernelProgram program = Plan("CONV 4 3x3 -> IMEX steps=3 -> GAP -> FC 2");
        var executions = new[] { program.Routines.Training, program.Routines.Inference.Concat(program.Routines.EvaluationBackward).ToEquatableArray() };
        foreach (EquatableArray<Call> execution in executions)
        {
            // Replay the execution: a write into a slot must not clobber a buffer that is read later in the same execution.
            for (int i = 0; i < execution.Count; i++)
            {
                foreach (BufferOperand written in execution[i].Outputs.OfType<BufferOperand>())
                {
                    int slot = program.Memory.SlotOf[written.Id];
                    IEnumerable<int> clobbered = execution.Skip(i + 1)
                        .TakeWhile(c => !c.Outputs.OfType<BufferOperand>().Any(b => b.Id != written.Id && program.Memory.SlotOf[b.Id] == slot))
                        .SelectMany(c => c.Inputs.OfType<BufferOperand>()).Where(b => b.Id != written.Id && program.Memory.SlotOf[b.Id] == slot && WrittenBefore(execution, b.Id, i)).Select(b => b.Id);
                    Assert.Empty(clobbered);
                }
            }
        }

        // The time steps' transient buffers (gradients, scratch, the branch's output) share: fewer slots than buffers.
        int perImage = program.Buffers.Count(b => b.PerImage && b.Role != BufferRole.Input);
        Assert.True(program.Memory.Slots.Count(s => s.PerImage) < perImage * 0.7, $"{program.Memory.Slots.Count(s => s.PerImage)} slots for {perImage} buffers");
    }

    [Fact]
    public void ASavedTensorKeepsItsStorageUntilItsJoinAndItsGradientSumsBothUses()
    {
        KernelProgram program = Plan("CONV 4 3x3 -> RELU -> SAVE enc1 -> POOL 2 -> CONV 4 3x3 -> UPSAMPLE 2 -> CONCAT enc1 -> GAP -> FC 2");
        ConcatChannels concat = program.Routines.Training.OfType<ConcatChannels>().Single();
        int saved = ((BufferOperand)concat.B).Id;
        foreach (EquatableArray<Call> execution in new[] { program.Routines.Training, program.Routines.Inference })
        {
            int written = execution.ToList().FindIndex(c => c.Outputs.Contains(concat.B)), joined = execution.ToList().FindIndex(c => c is ConcatChannels);
            Assert.InRange(written, 0, joined - 2); // the pool, conv and upsample run in between
            IEnumerable<string> clobbering = execution.Skip(written + 1).Take(joined - written - 1)
                .SelectMany(c => c.Outputs.OfType<BufferOperand>()).Where(b => program.Memory.SlotOf[b.Id] == program.Memory.SlotOf[saved]).Select(b => program.Buffer(b.Id).Name);
            Assert.Empty(clobbering);
        }

        // The concatenation's gradient goes back in two blocks; the saved tensor (the ReLU's output, fused into the conv)
        // also feeds the pool, so its gradient sums both.
        string[] backward = Print(program, program.Routines.Training.SkipWhile(c => c is not CommitStep));
        Assert.Contains("concat_channels.backward(%features.6.output.grad) -> %features.1.output.grad  second", backward);
        Assert.Contains("concat_channels.backward(%features.6.output.grad) -> %features.5.output.grad  first", backward);
        Assert.Contains("add_scaled(%features.1.output.grad, %features.1.output.grad_part) -> %features.1.output.grad  scale=1", backward);
    }

    [Fact]
    public void ABufferNoRoutineTouchesIsDroppedAndEveryOtherGetsStorage()
    {
        LoweredNetwork fused = FuseEpilogues.Run(Lower("CONV 8 3x3 -> RELU -> GAP -> FC 2"));
        Assert.Contains(fused.Buffers, b => b.Name == "features.0.output"); // the ReLU's input, before fusion

        KernelProgram program = Plan("CONV 8 3x3 -> RELU -> GAP -> FC 2");
        Assert.DoesNotContain(program.Buffers, b => b.Name == "features.0.output"); // the convolution writes the ReLU's output now
        Assert.All(program.Buffers.Where(b => b.Role != BufferRole.Input), b => Assert.True(program.Memory.SlotOf[b.Id] >= 0, b.Name));
    }

    [Fact]
    public void TheBackendRefusesAnFftItCannotPlanOnTheImexLayer()
    {
        var diagnostics = new List<DiagnosticInfo>();
        CheckedNetwork network = Check("CONV 4 3x3 -> IMEX steps=1 -> GAP -> FC 2", 12);
        PlanResult result = Planner.Plan(network, Backend.Cpu);
        Assert.Null(result.Program);
        DiagnosticInfo diagnostic = Assert.Single(result.Diagnostics);
        Assert.Equal("NC0019", diagnostic.Id);
        Assert.Equal(network.Layers[1].Spec.Span, diagnostic.Span);
    }

    [Theory]
    [InlineData((int)InitKind.HeXavier, "he_normal(fan_in=9)", "constant(0)", "xavier_uniform(fan_in=4, fan_out=2)", "constant(0)")]
    [InlineData((int)InitKind.PyTorchDefault, "uniform(bound=1/sqrt(9))", "uniform(bound=1/sqrt(9))", "uniform(bound=1/sqrt(4))", "uniform(bound=1/sqrt(4))")]
    [InlineData((int)InitKind.SmallNormal, "normal(std=0.01)", "constant(0)", "normal(std=0.01)", "constant(0)")]
    [InlineData((int)InitKind.Orthogonal, "orthogonal(gain=1)", "constant(0)", "orthogonal(gain=1)", "constant(0)")]
    public void TheNetworksInitialisationIsPrintedPerTensorAndLeavesBatchNormTheIdentity(int init, string convWeight, string convBias, string denseWeight, string denseBias)
    {
        string text = ProgramText.Print(Planner.Plan(Check("CONV 4 3x3 -> BN -> RELU -> GAP -> FC 2", 16, (InitKind)init), Backend.Cpu).Program!);

        Assert.Contains($"@features.0.weight: [4, 1, 3, 3] trained {convWeight}\n", text);
        Assert.Contains($"@features.0.bias: [4] trained {convBias}\n", text);
        Assert.Contains("@features.1.weight: [4] trained constant(1)\n", text);
        Assert.Contains("@features.1.bias: [4] trained constant(0)\n", text);
        Assert.Contains("@features.1.running_var: [4] buffer constant(1)\n", text);
        Assert.Contains($"@classifier.0.weight: [2, 4] trained {denseWeight}\n", text);
        Assert.Contains($"@classifier.0.bias: [2] trained {denseBias}\n", text);
    }

    private static bool WrittenBefore(EquatableArray<Call> execution, int id, int index) =>
        execution.Take(index + 1).Any(c => c.Outputs.OfType<BufferOperand>().Any(b => b.Id == id));

    private static string[] Print(LoweredNetwork network, IEnumerable<Call> calls)
    {
        KernelProgram program = Program(network, new BufferTable(network.Buffers, network.Sizes));
        return calls.Select(c => ProgramText.Call(program, c)).ToArray();
    }

    private static string[] Print(KernelProgram program, IEnumerable<Call> calls) => calls.Select(c => ProgramText.Call(program, c)).ToArray();

    /// <summary>A program shell around a lowered network's buffers, enough to print its calls.</summary>
    private static KernelProgram Program(LoweredNetwork network, BufferTable buffers)
    {
        var empty = EquatableArray<Call>.Empty;
        return new KernelProgram(network.Network, buffers.Sizes, buffers.ToEquatableArray(), network.Tensors, network.Shapes,
            new Routines(empty, empty, empty, empty, empty), network.Layers, EquatableArray<int>.Empty,
            new MemoryPlan(EquatableArray<int>.Empty, EquatableArray<StorageSlot>.Empty), 0);
    }

    private static LoweredNetwork Lower(string blueprint) => Lowering.Lower(Check(blueprint, 16), Backend.Cpu, []);

    private static KernelProgram Plan(string blueprint) => Planner.Plan(Check(blueprint, 16), Backend.Cpu).Program!;

    private static CheckedNetwork Check(string blueprint, int size, InitKind init = InitKind.HeXavier, string? keep = null)
    {
        var diagnostics = new List<DiagnosticInfo>();
        List<LayerSpec> layers = BlueprintParser.Parse(new BlueprintText(blueprint, Nowhere, EquatableArray<SourcePoint>.Empty), diagnostics);
        var spec = new NetworkSpec(new TypeDeclaration(null, EquatableArray<ContainingType>.Empty, "Net"), Nowhere,
            new InputSpec(1, size, size, Nowhere), LossKind.CrossEntropy, Nowhere, layers.ToEquatableArray())
        {
            Init = init,
            Keep = keep is null ? EquatableArray<string>.Empty : new[] { keep }.ToEquatableArray(),
        };
        CheckResult checkedResult = NetworkChecker.Check(spec);
        Assert.Empty(diagnostics.Concat(checkedResult.Diagnostics));
        return checkedResult.Network!;
    }
}
