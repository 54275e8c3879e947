namespace ServingStack.Inference.Repository;

public enum ModelVersionPolicyKind
{
    Latest,
    All,
    Specific,
}
