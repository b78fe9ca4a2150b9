using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace NetCompiler.Generator;

/// <summary>
/// Every diagnostic NetCompiler reports. Errors mean the network cannot be built; warnings flag choices that
/// are valid but probably not meant. IDs are stable: never reuse or renumber one.
/// </summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "NetCompiler";

    public static readonly DiagnosticDescriptor NetworkNotPartial = Error(
        "NC0001", "Network class must be partial",
        "Network class '{0}' must be declared partial so the generator can add its implementation");

    public static readonly DiagnosticDescriptor UnsupportedNetworkDeclaration = Error(
        "NC0002", "Unsupported network declaration",
        "'{0}' cannot be a network: {1}");

    public static readonly DiagnosticDescriptor InvalidInputShape = Error(
        "NC0003", "Input shape is not CxHxW",
        "Input shape '{0}' is not of the form CxHxW with positive integers, e.g. \"3x32x32\"");

    public static readonly DiagnosticDescriptor EmptyNetwork = Error(
        "NC0004", "Network has no layers",
        "Network '{0}' has no layers: add layer attributes after [Network] or a Blueprint");

    public static readonly DiagnosticDescriptor LayersGivenTwice = Error(
        "NC0005", "Layers given twice",
        "Network '{0}' gives its layers both as attributes and as a Blueprint: use one of the two");

    public static readonly DiagnosticDescriptor UnknownBlueprintToken = Error(
        "NC0006", "Unknown blueprint token",
        "Unknown blueprint token '{0}': expected {1}");

    public static readonly DiagnosticDescriptor MalformedBlueprint = Error(
        "NC0007", "Malformed blueprint",
        "Malformed blueprint: {0}");

    public static readonly DiagnosticDescriptor InvalidRepetition = Error(
        "NC0008", "Invalid repetition count",
        "Repetition count '{0}' must be an integer from 1 to {1}");

    public static readonly DiagnosticDescriptor WindowDoesNotTile = Warning(
        "NC0009", "Window does not tile its input",
        "{0}: a {1}x{1} window with stride {2} and padding {3} does not tile the {4}x{5} input; {6} input row(s) and {7} column(s) are never covered and the output is floored to {8}x{9}, as PyTorch does");

    public static readonly DiagnosticDescriptor WindowLargerThanInput = Error(
        "NC0010", "Window larger than its input",
        "{0}: the {1}x{1} window is larger than the {2}x{3} input padded by {4}; the layer leaves no output");

    public static readonly DiagnosticDescriptor NoOutput = Error(
        "NC0011", "Layer leaves no output",
        "{0}: the output would be {1}x{2}; the layer leaves no output");

    public static readonly DiagnosticDescriptor GroupsMismatch = Error(
        "NC0012", "Groups do not divide the channels",
        "{0}: groups = {1} must divide the {2} input channels and the {3} output channels");

    public static readonly DiagnosticDescriptor ArgumentOutOfRange = Error(
        "NC0013", "Layer argument out of range",
        "{0}: {1} = {2} is out of range: {3}");

    public static readonly DiagnosticDescriptor DenseInputMismatch = Error(
        "NC0014", "Dense input size mismatch",
        "{0}: InFeatures = {1}, but its input {2} flattens to {3} features");

    public static readonly DiagnosticDescriptor LossDoesNotFitOutput = Error(
        "NC0015", "Loss does not fit the output",
        "Loss {0} does not fit the network's output {1}: {2}");

    public static readonly DiagnosticDescriptor SpatialLayerAfterFlatten = Error(
        "NC0016", "Spatial layer on a flat input",
        "{0} needs a CxHxW input, but it follows a flat {1}-feature output");

    public static readonly DiagnosticDescriptor DuplicateLayerName = Error(
        "NC0017", "Duplicate layer name",
        "Layer name '{0}' is used twice; layer names are checkpoint keys and must be unique");

    public static readonly DiagnosticDescriptor PoolPaddingTooLarge = Error(
        "NC0018", "Pooling padding too large",
        "{0}: padding {1} must be at most half the kernel size {2}");

    public static readonly DiagnosticDescriptor FftSizeNotPlannable = Error(
        "NC0019", "FFT cannot plan the implicit solve",
        "{0}: the FFT solve needs a height and width that are powers of two, at least 2, but its input is {1}x{2}");

    public static readonly DiagnosticDescriptor ScoresClipped = Warning(
        "NC0020", "Network ends in a layer that distorts its scores",
        "The network ends in {0}: {1}");

    public static readonly DiagnosticDescriptor OptionalLayerSkipped = Info(
        "NC0021", "Optional layer skipped",
        "Optional {0} skipped: its {1}x{2} input is too small for the {3}x{3} window");

    public static readonly DiagnosticDescriptor LayersSplitAcrossDeclarations = Error(
        "NC0022", "Layers split across partial declarations",
        "Layer attributes of '{0}' are on more than one partial declaration, so their order is undefined: keep them on one");

    public static readonly DiagnosticDescriptor NetworkTooLarge = Error(
        "NC0023", "Network too large",
        "The network expands to more than {0} layers");

    public static readonly DiagnosticDescriptor UnknownKeptLayer = Error(
        "NC0024", "Kept layer not in the network",
        "Keep names '{0}', which is not a layer of {1}; the layer names are those of its Summary: {2}");

    public static readonly DiagnosticDescriptor SkipShapeMismatch = Error(
        "NC0034", "Skip join shape mismatch",
        "{0}: the current tensor is {1} but the one saved as '{2}' is {3}; {4}");

    public static readonly DiagnosticDescriptor UnknownSkip = Error(
        "NC0035", "Unknown skip name",
        "{0}: no layer saves a tensor as '{1}'; {2}");

    public static readonly DiagnosticDescriptor SkipUsedBeforeSaved = Error(
        "NC0036", "Skip joined before it is saved",
        "{0}: '{1}' is saved only later in the network; a join reads a tensor saved before it");

    public static readonly DiagnosticDescriptor SkipSavedTwice = Error(
        "NC0037", "Skip name saved twice",
        "{0}: '{1}' is already saved by an earlier layer; give each saved tensor its own name");

    public static readonly DiagnosticDescriptor SkipAfterFlatten = Error(
        "NC0038", "Skip on a flat tensor",
        "{0}: skips keep and join CxHxW feature maps, but it follows a flat {1}-feature output");

    public static readonly DiagnosticDescriptor InternalError = Error(
        "NC9999", "NetCompiler generator failure",
        "The NetCompiler generator failed on '{0}': {1}. This is a bug in NetCompiler; please report it.");

    private static readonly Dictionary<string, DiagnosticDescriptor> ById = typeof(DiagnosticDescriptors)
        .GetFields()
        .Select(field => field.GetValue(null))
        .OfType<DiagnosticDescriptor>()
        .ToDictionary(descriptor => descriptor.Id);

    public static IEnumerable<DiagnosticDescriptor> All => ById.Values;

    public static DiagnosticDescriptor Find(string id) => ById[id];

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    private static DiagnosticDescriptor Warning(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Warning, isEnabledByDefault: true);

    private static DiagnosticDescriptor Info(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Info, isEnabledByDefault: true);
}
