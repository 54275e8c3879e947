using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers and wires <see cref="ConnectionDrain"/>.</summary>
public static class ConnectionDrainExtensions
{
    /// <summary>
    /// The shared <see cref="ConnectionDrain"/>. With <paramref name="beginOnStop"/> the drain starts when the host
    /// stops and lasts <c>ConnectionDrain:DelaySeconds</c>; without it the caller's own shutdown sequence starts it.
    /// </summary>
    public static TBuilder AddConnectionDrain<TBuilder>(this TBuilder builder, bool beginOnStop) where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<ConnectionDrain>();
        if (beginOnStop)
        {
            builder.Services.AddOptions<ConnectionDrainOptions>().BindConfiguration(ConnectionDrainOptions.SectionName)
                .Validate(o => o.DelaySeconds >= 0, $"{ConnectionDrainOptions.SectionName}:DelaySeconds must be >= 0.")
                .ValidateOnStart();
            builder.Services.AddHostedService<ConnectionDrainService>();
        }

        return builder;
    }

    /// <summary>Every request during a drain asks its client to reconnect: put it first in the pipeline.</summary>
    public static IApplicationBuilder UseConnectionDrain(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var drain = app.ApplicationServices.GetRequiredService<ConnectionDrain>();
        return app.Use((context, next) =>
        {
            drain.Apply(context);
            return next(context);
        });
    }

    /// <summary>Lets the drain send GOAWAY to this HTTP/2 listener's idle connections too, not only at their next request.</summary>
    public static ListenOptions TrackForDrain(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        if (listen.Protocols != HttpProtocols.Http2)
        {
            return listen;
        }

        var drain = listen.ApplicationServices.GetRequiredService<ConnectionDrain>();
        listen.Use(next => async connection =>
        {
            drain.Track(connection);
            try
            {
                await next(connection);
            }
            finally
            {
                drain.Untrack(connection);
            }
        });
        return listen;
    }
}
