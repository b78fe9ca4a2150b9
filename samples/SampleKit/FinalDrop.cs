using NetCompiler;

namespace NetCompiler.Samples;

/// <summary>
/// The learning rate divided by <paramref name="factor"/> from epoch <paramref name="dropEpoch"/> (1-based) on: the one
/// step of a step schedule, which gives the usual final gain once training has settled.
/// </summary>
public sealed class FinalDrop(float learningRate, int dropEpoch, float factor) : LearningRateSchedule
{
    public override float LearningRate(int epoch, int batch, int batchesPerEpoch) => epoch + 1 >= dropEpoch ? learningRate / factor : learningRate;
}
