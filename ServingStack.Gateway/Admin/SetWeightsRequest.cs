namespace ServingStack.Gateway.Admin;

/// <summary>Body of <c>PUT /admin/splits/{model}</c>: new weights by target name; targets not named keep theirs.</summary>
public sealed record SetWeightsRequest(Dictionary<string, int>? Weights);
