using System.Collections.Concurrent;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Moves keep-alive clients off a process that is shutting down while its listeners still accept. From
/// <see cref="Begin"/> on, every HTTP/1.x response says <c>Connection: close</c> and every HTTP/2 connection gets a
/// GOAWAY, so clients open new connections (which the Service routes to other replicas) instead of sending their next
/// request on a connection the server will drop when its listener closes: that request would be lost in flight.
/// </summary>
public sealed class ConnectionDrain
{
    // HTTP/2 connections of the listeners that asked for tracking: an idle one gets its GOAWAY at once, not only when
    // its next request arrives. (HTTP/1.1 connections are never closed from here: closing an idle one races the
    // client's next request, which is exactly the loss the drain exists to avoid.)
    private readonly ConcurrentDictionary<string, IConnectionLifetimeNotificationFeature> _http2 = new(StringComparer.Ordinal);
    private volatile bool _draining;

    public bool IsDraining => _draining;

    /// <summary>Starts the drain (idempotent): idle HTTP/2 connections get GOAWAY now, every other connection at its next response.</summary>
    public void Begin()
    {
        _draining = true;
        foreach (var connection in _http2.Values)
        {
            connection.RequestClose();
        }
    }

    /// <summary>During a drain, asks the client of <paramref name="context"/> to reconnect; a no-op otherwise.</summary>
    public void Apply(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_draining)
        {
            return;
        }

        if (HttpProtocol.IsHttp11(context.Request.Protocol) || HttpProtocol.IsHttp10(context.Request.Protocol))
        {
            // Set as the headers go out, so neither a handler nor the exception handler (which clears headers) drops it.
            // Kestrel closes the connection once this response is written.
            context.Response.OnStarting(static state =>
            {
                ((HttpResponse)state).Headers.Connection = "close";
                return Task.CompletedTask;
            }, context.Response);
        }
        else
        {
            // Kestrel answers with a graceful GOAWAY: streams already sent complete, new ones go to a new connection.
            context.Features.Get<IConnectionLifetimeNotificationFeature>()?.RequestClose();
        }
    }

    internal void Track(ConnectionContext connection)
    {
        if (connection.Features.Get<IConnectionLifetimeNotificationFeature>() is { } lifetime)
        {
            _http2[connection.ConnectionId] = lifetime;
        }
    }

    internal void Untrack(ConnectionContext connection) => _http2.TryRemove(connection.ConnectionId, out _);
}
