namespace ServingStack.Bench.Options;

/// <summary>The REST body <c>run --protocol rest</c> sends.</summary>
public enum RestFormat
{
    /// <summary>Open Inference (KServe v2): POST /v2/models/{m}[/versions/{v}]/infer with flat typed data.</summary>
    V2,

    /// <summary>
    /// Open Inference infer with Triton's binary tensor extension: a JSON header, then the inputs' raw bytes; outputs
    /// asked for as binary too.
    /// </summary>
    Binary,

    /// <summary>TF Serving row format: POST /v1/models/{m}[/versions/{v}]:predict with "instances".</summary>
    Tf,
}
