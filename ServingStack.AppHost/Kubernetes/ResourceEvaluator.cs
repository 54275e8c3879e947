using System.Globalization;
using System.Text.RegularExpressions;

namespace ServingStack.AppHost.Kubernetes;

/// <summary>
/// Runs a resource's argument and environment callbacks in publish mode, the way the manifest publisher does, and binds
/// the manifest expressions in them (<c>{inference.bindings.rest.url}</c>, <c>{modelsync-source.value}</c>) to what they
/// mean inside the cluster: a Service named after the resource, whose ports are the endpoints' target ports. So the pods
/// run with exactly the arguments and environment aspire-manifest.json lists, from one definition in Hosting/.
/// </summary>
internal sealed partial class ResourceEvaluator(DistributedApplicationModel model, DistributedApplicationExecutionContext executionContext)
{
    [GeneratedRegex(@"\{(?<resource>[A-Za-z0-9-]+)\.(?:bindings\.(?<endpoint>[A-Za-z0-9-]+)\.(?<property>[A-Za-z]+)|(?<value>value))\}")]
    private static partial Regex Expression();

    public async Task<EvaluatedResource> EvaluateAsync(IResource resource, CancellationToken cancellationToken)
    {
        var args = new List<string>();
        if (resource.TryGetAnnotationsOfType<CommandLineArgsCallbackAnnotation>(out var argCallbacks))
        {
            var raw = new List<object>();
            var context = new CommandLineArgsCallbackContext(raw, resource, cancellationToken) { ExecutionContext = executionContext };
            foreach (var callback in argCallbacks)
            {
                await callback.Callback(context);
            }

            foreach (var value in raw)
            {
                args.Add(await BindAsync(resource, value, cancellationToken));
            }
        }

        var environment = new List<KeyValuePair<string, string>>();
        if (resource.TryGetEnvironmentVariables(out var envCallbacks))
        {
            var raw = new Dictionary<string, object>(StringComparer.Ordinal);
            var context = new EnvironmentCallbackContext(executionContext, resource, raw, cancellationToken);
            foreach (var callback in envCallbacks)
            {
                await callback.Callback(context);
            }

            foreach (var (key, value) in raw)
            {
                environment.Add(new(key, await BindAsync(resource, value, cancellationToken)));
            }
        }

        return new EvaluatedResource(args, environment);
    }

    private async Task<string> BindAsync(IResource owner, object value, CancellationToken cancellationToken)
    {
        switch (value)
        {
            case string text:
                return text;
            case ParameterResource parameter:
                return await ResolveAsync(parameter, cancellationToken);
            case IManifestExpressionProvider expression:
                return await BindExpressionAsync(owner, expression.ValueExpression, cancellationToken);
            default:
                throw new InvalidOperationException($"'{owner.Name}': a value of type {value.GetType().Name} has no Kubernetes form.");
        }
    }

    private async Task<string> BindExpressionAsync(IResource owner, string expression, CancellationToken cancellationToken)
    {
        var bound = new System.Text.StringBuilder();
        var last = 0;
        foreach (Match match in Expression().Matches(expression))
        {
            bound.Append(expression, last, match.Index - last);
            bound.Append(await BindPlaceholderAsync(owner, match, cancellationToken));
            last = match.Index + match.Length;
        }

        bound.Append(expression, last, expression.Length - last);
        var result = bound.ToString();
        if (result.Contains('{', StringComparison.Ordinal) || result.Contains('}', StringComparison.Ordinal))
        {
            // A manifest expression we do not know how to bind would reach a pod verbatim: refuse instead.
            throw new InvalidOperationException($"'{owner.Name}': cannot bind '{expression}' for Kubernetes.");
        }

        return result;
    }

    private async Task<string> BindPlaceholderAsync(IResource owner, Match match, CancellationToken cancellationToken)
    {
        var name = match.Groups["resource"].Value;
        var target = model.Resources.FirstOrDefault(r => r.Name == name)
            ?? throw new InvalidOperationException($"'{owner.Name}' refers to '{name}', which is not in the graph.");
        if (match.Groups["value"].Success)
        {
            return target is ParameterResource parameter
                ? await ResolveAsync(parameter, cancellationToken)
                : throw new InvalidOperationException($"'{owner.Name}': '{name}.value' is not a parameter.");
        }

        var endpointName = match.Groups["endpoint"].Value;
        var endpoint = target.Annotations.OfType<EndpointAnnotation>().FirstOrDefault(e => e.Name == endpointName)
            ?? throw new InvalidOperationException($"'{owner.Name}' refers to endpoint '{endpointName}' of '{name}', which has none.");
        var port = (endpoint.TargetPort ?? throw new InvalidOperationException($"Endpoint '{name}/{endpointName}' has no target port in publish mode."))
            .ToString(CultureInfo.InvariantCulture);
        // The Service is named after the resource and exposes each endpoint on its target port (see ServiceBuilder).
        return match.Groups["property"].Value switch
        {
            "url" => $"{endpoint.UriScheme}://{name}:{port}",
            "host" => name,
            "port" or "targetPort" => port,
            "hostAndPort" => $"{name}:{port}",
            "scheme" => endpoint.UriScheme,
            var other => throw new InvalidOperationException($"'{owner.Name}': endpoint property '{other}' has no Kubernetes form."),
        };
    }

    private static async Task<string> ResolveAsync(ParameterResource parameter, CancellationToken cancellationToken)
    {
        if (parameter.Secret)
        {
            // Secrets are referenced by name, never written into manifests.
            throw new InvalidOperationException($"Parameter '{parameter.Name}' is secret; reference a Kubernetes Secret instead.");
        }

        return await parameter.GetValueAsync(cancellationToken)
            ?? throw new InvalidOperationException($"Parameter '{parameter.Name}' has no value; pass --Parameters:{parameter.Name}=...");
    }
}
