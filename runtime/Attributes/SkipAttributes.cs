namespace NetCompiler;

/// <summary>How <see cref="UpsampleAttribute"/> fills the new pixels; mirrors nn.Upsample's mode.</summary>
public enum UpsampleMode
{
    /// <summary>Each input pixel repeated Scale x Scale times (PyTorch's 'nearest').</summary>
    Nearest = 0,

    /// <summary>Bilinear interpolation with align_corners=False (PyTorch's 'bilinear').</summary>
    Bilinear = 1,
}

/// <summary>nn.Upsample(scale_factor=scale, mode=...): height and width times an integer factor, for U-Net decoders.</summary>
public sealed class UpsampleAttribute(int scale) : LayerAttribute
{
    public int Scale { get; } = scale;
    public UpsampleMode Mode { get; set; } = UpsampleMode.Nearest;
}

/// <summary>
/// Keeps the current tensor under <paramref name="skip"/> (no computation) for a later <see cref="ConcatAttribute"/> or
/// <see cref="AddAttribute"/>: a U-Net's encoder feature map. Each name is saved once.
/// </summary>
public sealed class SaveAttribute(string skip) : LayerAttribute
{
    public string Skip { get; } = skip;
}

/// <summary>Joins the tensor saved under <paramref name="skip"/> along channels: torch.cat([current, saved], dim=1); the heights and widths must match.</summary>
public sealed class ConcatAttribute(string skip) : LayerAttribute
{
    public string Skip { get; } = skip;
}

/// <summary>Adds the tensor saved under <paramref name="skip"/>: current + saved, of one shape.</summary>
public sealed class AddAttribute(string skip) : LayerAttribute
{
    public string Skip { get; } = skip;
}
