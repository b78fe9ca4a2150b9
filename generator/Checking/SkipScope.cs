using System.Collections.Generic;
using System.Linq;
using NetCompiler.Generator.Model;

namespace NetCompiler.Generator.Checking;

/// <summary>
/// The tensors saved so far while the checker walks the layers: each name's shape and receptive field. It knows the
/// names saved anywhere in the network, so a join can tell a name saved later from one saved nowhere.
/// </summary>
internal sealed class SkipScope(IEnumerable<LayerSpec> layers)
{
    private readonly Dictionary<string, (Shape Shape, ReceptiveField Field)> _saved = [];
    private readonly HashSet<string> _named = [.. layers.OfType<SkipSpec>().Where(s => s.Action == SkipAction.Save).Select(s => s.Skip)];

    public static readonly SkipScope None = new([]);

    /// <summary>Keeps <paramref name="shape"/> under <paramref name="name"/>; false when the name is taken.</summary>
    public bool Save(string name, Shape shape, ReceptiveField field)
    {
        if (_saved.ContainsKey(name))
        {
            return false;
        }

        _saved.Add(name, (shape, field));
        return true;
    }

    public (Shape Shape, ReceptiveField Field)? Find(string name) => _saved.TryGetValue(name, out var saved) ? saved : null;

    /// <summary>Whether some layer saves <paramref name="name"/> (later, when <see cref="Find"/> has nothing yet).</summary>
    public bool SavedSomewhere(string name) => _named.Contains(name);

    /// <summary>The names saved so far, for the unknown-name message.</summary>
    public IEnumerable<string> Names => _saved.Keys;
}
