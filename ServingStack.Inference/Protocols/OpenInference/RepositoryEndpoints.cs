using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ServingStack.Inference.Configuration;
using ServingStack.Inference.Repository;
using ServingStack.Inference.Runtime;

namespace ServingStack.Inference.Protocols.OpenInference;

/// <summary>
/// Triton's model repository extension: list, load and unload models on demand. It changes what the server serves,
/// so every call needs the admin key; with no key configured the API is off.
/// </summary>
public static class RepositoryEndpoints
{
    public const string AdminKeyHeader = "X-Admin-Key";

    private static readonly TimeSpan s_loadTimeout = TimeSpan.FromMinutes(2);

    public static IEndpointRouteBuilder MapRepositoryApi(this IEndpointRouteBuilder app)
    {
        var repository = app.MapGroup("/v2/repository").AddEndpointFilter(async (context, next) =>
        {
            var key = context.HttpContext.RequestServices.GetRequiredService<IOptions<ServingOptions>>().Value.AdminApiKey;
            var error = Authorize(context.HttpContext.Request, key);
            if (error is not null)
            {
                if (error.Code == ServingErrorCode.Unauthenticated)
                {
                    context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
                }

                await ProtocolResults.WriteErrorAsync(context.HttpContext, error);
                return Results.Empty;
            }

            return await next(context);
        });

        repository.MapPost("/index", (HttpContext context, ModelManager models) => WriteIndexAsync(context, models));
        repository.MapPost("/models/{model}/load", async (HttpContext context, string model, ModelManager models) =>
        {
            if (!models.TryGetModel(model, out var managed))
            {
                await ProtocolResults.WriteErrorAsync(context, JsonInferencePipeline.UnknownModel(models, model));
                return;
            }

            var error = await models.LoadAsync(managed, s_loadTimeout, context.RequestAborted);
            if (error is not null)
            {
                await ProtocolResults.WriteErrorAsync(context, error);
                return;
            }

            await WriteEmptyAsync(context);
        });
        repository.MapPost("/models/{model}/unload", async (HttpContext context, string model, ModelManager models) =>
        {
            if (!models.TryGetModel(model, out var managed))
            {
                await ProtocolResults.WriteErrorAsync(context, JsonInferencePipeline.UnknownModel(models, model));
                return;
            }

            models.Unload(managed);
            await WriteEmptyAsync(context);
        });
        return app;
    }

    /// <summary>Checks <c>Authorization: Bearer KEY</c> or <c>X-Admin-Key: KEY</c> in constant time.</summary>
    private static ServingError? Authorize(HttpRequest request, string? key)
    {
        if (string.IsNullOrEmpty(key))
        {
            return new ServingError(ServingErrorCode.PermissionDenied,
                "the repository API is off: set Serving:AdminApiKey (environment Serving__AdminApiKey) to turn it on");
        }

        string? presented = request.Headers[AdminKeyHeader];
        var authorization = request.Headers.Authorization.ToString();
        if (presented is null && authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = authorization["Bearer ".Length..].Trim();
        }

        if (string.IsNullOrEmpty(presented))
        {
            return new ServingError(ServingErrorCode.Unauthenticated, $"the repository API needs the admin key (Authorization: Bearer KEY or {AdminKeyHeader})");
        }

        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(presented), Encoding.UTF8.GetBytes(key))
            ? null
            : new ServingError(ServingErrorCode.Unauthenticated, "the admin key is not valid");
    }

    private static Task WriteIndexAsync(HttpContext context, ModelManager models) =>
        ProtocolResults.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartArray();
            foreach (var model in models.Models)
            {
                var versions = model.Versions;
                if (versions.Count == 0)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", model.Name);
                    writer.WriteString("state", "UNAVAILABLE");
                    writer.WriteString("reason", model.Unloaded ? "unloaded" : $"no versions under '{model.Config.BasePath}'");
                    writer.WriteEndObject();
                    continue;
                }

                foreach (var version in versions)
                {
                    writer.WriteStartObject();
                    writer.WriteString("name", model.Name);
                    writer.WriteString("version", version.Version.ToString(CultureInfo.InvariantCulture));
                    writer.WriteString("state", version.State switch
                    {
                        ModelVersionState.Available => "READY",
                        ModelVersionState.Start or ModelVersionState.Loading => "LOADING",
                        ModelVersionState.Unloading => "UNLOADING",
                        _ => "UNAVAILABLE",
                    });
                    writer.WriteString("reason", version.Error ?? (version.State == ModelVersionState.End ? "unloaded" : string.Empty));
                    writer.WriteEndObject();
                }
            }

            writer.WriteEndArray();
        });

    private static Task WriteEmptyAsync(HttpContext context) =>
        ProtocolResults.WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteEndObject();
        });
}
