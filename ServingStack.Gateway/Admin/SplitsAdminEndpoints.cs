using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using ServingStack.Gateway.Hosting;
using ServingStack.Gateway.Security;
using ServingStack.Gateway.Splits;

namespace ServingStack.Gateway.Admin;

/// <summary>
/// <c>GET /admin/splits</c>, <c>GET/PUT /admin/splits/{model}</c> and <c>POST /admin/splits/{model}/promotion/resume</c>;
/// mapped only when an admin credential is configured (the admin key, JWT, or an API key with the admin scope).
/// </summary>
public static class SplitsAdminEndpoints
{
    public static WebApplication MapSplitsAdmin(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var auth = app.Services.GetRequiredService<IOptions<GatewaySecurityOptions>>().Value.Auth;
        if (string.IsNullOrEmpty(options.AdminApiKey) && !auth.Jwt.Enabled && !auth.ApiKeyScopes.Values.Any(scopes => scopes.Contains(auth.AdminRole)))
        {
            return app;
        }

        // Framework refusals that carry no body (malformed JSON: 400, wrong content type: 415) become ProblemDetails
        // too; only under /admin, so that model servers' answers on proxied routes pass untouched.
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/admin", StringComparison.OrdinalIgnoreCase), admin => admin.UseStatusCodePages());

        var admin = app.MapGroup("/admin/splits").AddEndpointFilter<AdminAuthorizationFilter>();
        admin.MapGet("/", (SplitRegistry registry) =>
            TypedResults.Ok(registry.All.Values.OrderBy(s => s.Model, StringComparer.Ordinal).Select(SplitView.From).ToList()));
        admin.MapGet("/{model}", Results<Ok<SplitView>, ProblemHttpResult> (string model, SplitRegistry registry) =>
            registry.Get(model) is { } split ? TypedResults.Ok(SplitView.From(split)) : NotFound(model));
        admin.MapPut("/{model}", Results<Ok<SplitView>, ProblemHttpResult, ValidationProblem> (string model, SetWeightsRequest body, SplitRegistry registry) =>
        {
            if (registry.Get(model) is null)
            {
                return NotFound(model);
            }

            var errors = registry.SetWeights(model, body.Weights ?? [], "admin");
            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["weights"] = [.. errors] },
                    title: $"The weights of '{model}' were not changed.");
            }

            return TypedResults.Ok(SplitView.From(registry.Get(model)!));
        });
        admin.MapPost("/{model}/promotion/resume", Results<Ok<SplitView>, ProblemHttpResult> (string model, SplitRegistry registry) =>
        {
            if (registry.Get(model) is null)
            {
                return NotFound(model);
            }

            return registry.ResumePromotion(model) is { } why
                ? TypedResults.Problem(why, statusCode: StatusCodes.Status409Conflict, title: "The promotion was not resumed")
                : TypedResults.Ok(SplitView.From(registry.Get(model)!));
        });
        return app;
    }

    private static ProblemHttpResult NotFound(string model) =>
        TypedResults.Problem($"model '{ClientText.Cut(model)}' has no split.", statusCode: StatusCodes.Status404NotFound, title: "No such split");
}
