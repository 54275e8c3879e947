namespace ServingStack.Inference.Hosting;

/// <summary>The value types of tensorflow_model_server's flags, as its flag parser reads them.</summary>
public enum FlagValueKind
{
    /// <summary><c>--flag</c>, <c>--flag=true|false</c> (any case) or <c>--flag=1|0</c>.</summary>
    Bool,

    Int32,

    Int64,

    Float,

    String,
}
