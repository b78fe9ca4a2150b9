using System;
using NetCompiler.Generator.Program;

namespace NetCompiler.Generator.Emitting;

/// <summary>
/// The switch arms of LayerOutput and LayerGradient, one per layer, for every printer: a kept layer's buffer (read as
/// <c>read</c> makes it: the span itself on the CPU, a copy from a device), or the error that says why it is not there.
/// </summary>
internal static class LayerAccess
{
    public static void PrintOutputArms(SourceWriter writer, KernelProgram program, ProgramNames names, Func<string, string> read)
    {
        foreach (LayerView view in program.Layers)
        {
            if (view.Output is int && !view.Kept)
            {
                writer.Line($"\"{view.Layer}\" => throw NotRetained(layerName, \"output\"),");
            }
            else if (view.Output is int output)
            {
                string value = read(names.Slice(output, "_lastCount"));
                writer.Line(view.FoldedInto is { } norm
                    ? $"\"{view.Layer}\" => _lastFolded ? throw NotKept(layerName, \"output\", \"{norm}\") : {value},"
                    : $"\"{view.Layer}\" => {value},");
            }
            else
            {
                writer.Line($"\"{view.Layer}\" => throw NotKept(layerName, \"output\", \"{view.OutputKeptBy}\"),");
            }
        }
    }

    public static void PrintGradientArms(SourceWriter writer, KernelProgram program, ProgramNames names, Func<string, string> read)
    {
        foreach (LayerView view in program.Layers)
        {
            writer.Line(view.Gradient is not int gradient ? $"\"{view.Layer}\" => throw NotKept(layerName, \"gradient\", \"{view.GradientKeptBy}\"),"
                : view.Kept ? $"\"{view.Layer}\" => {read(names.Slice(gradient, "_lastCount"))},"
                : $"\"{view.Layer}\" => throw NotRetained(layerName, \"gradient\"),");
        }
    }
}
