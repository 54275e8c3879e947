using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ServingStack.Tests.ModelSync;

/// <summary>
/// A TCP proxy on 127.0.0.1 in front of a real server (s3rver), for the faults a network or a broken store causes and the
/// server itself cannot: responses that stop mid-body (<see cref="StallResponsesAfterBytes"/>), a store that dies
/// (<see cref="Kill"/>: every connection reset, new ones too, until <see cref="Revive"/>) and answers that are garbage
/// (<see cref="Answer"/>).
/// Requests are forwarded byte for byte, so signed S3 requests stay valid.
/// </summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private const int MaxHeadBytes = 64 * 1024;

    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stopped = new();
    private readonly ConcurrentDictionary<Task, bool> _connections = new();
    private CancellationTokenSource _alive = new();
    private volatile bool _dead;
    private readonly Task _accepting;
    private int _stalls;
    private long _responseBytes;

    private FaultProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
        _accepting = AcceptAsync();
    }

    public Uri Endpoint { get; }

    /// <summary>Per connection: once the upstream has sent this many response bytes, nothing more is forwarded (the connection stays open until the client gives up); null passes everything.</summary>
    public long? StallResponsesAfterBytes { get; set; }

    /// <summary>A request's head (request line and headers) → raw bytes to answer instead of forwarding it (the connection is closed after them), or null to forward.</summary>
    public Func<string, byte[]?>? Answer { get; set; }

    /// <summary>Responses stalled so far.</summary>
    public int Stalls => Volatile.Read(ref _stalls);

    /// <summary>Response bytes handed to clients' sockets so far (what they read, plus what their socket buffers hold).</summary>
    public long ResponseBytes => Interlocked.Read(ref _responseBytes);

    public static FaultProxy Start(Uri upstream) =>
        new(new IPEndPoint(IPAddress.Parse(upstream.Host), upstream.Port));

    /// <summary>A raw HTTP/1.1 response with a body of <paramref name="body"/>.</summary>
    public static byte[] Response(int status, string contentType, byte[] body) =>
        [.. Encoding.ASCII.GetBytes($"HTTP/1.1 {status} X\r\nContent-Type: {contentType}\r\nContent-Length: {body.Length}\r\nConnection: close\r\n\r\n"), .. body];

    /// <summary>The store dies: every open connection is reset, and so is every new one until <see cref="Revive"/>.</summary>
    public void Kill()
    {
        _dead = true;
        Interlocked.Exchange(ref _alive, new CancellationTokenSource()).Cancel();
    }

    /// <summary>The store is back: connections are forwarded again.</summary>
    public void Revive() => _dead = false;

    public async ValueTask DisposeAsync()
    {
        Kill();
        await _stopped.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
        }

        await Task.WhenAll(_connections.Keys);
        _stopped.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopped.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopped.Token);
            var connection = HandleAsync(client);
            _connections[connection] = true;
            _ = connection.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task HandleAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        var alive = Volatile.Read(ref _alive).Token;
        using var done = CancellationTokenSource.CreateLinkedTokenSource(alive);
        try
        {
            if (_dead)
            {
                await done.CancelAsync();
            }

            done.Token.ThrowIfCancellationRequested();
            await upstream.ConnectAsync(_upstream, done.Token);
            var requests = ForwardRequestsAsync(client.GetStream(), upstream.GetStream(), done.Token);
            var responses = ForwardResponsesAsync(upstream.GetStream(), client.GetStream(), done.Token);
            await Task.WhenAny(requests, responses);
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            await done.CancelAsync();
            if (alive.IsCancellationRequested || _dead)
            {
                // A reset, not a polite close: what a client sees when the store's process dies.
                client.Client.LingerState = new LingerOption(true, 0);
            }

            client.Dispose();
        }
    }

    /// <summary>Client → upstream, one request at a time, so <see cref="Answer"/> sees every request head.</summary>
    private async Task ForwardRequestsAsync(NetworkStream client, NetworkStream upstream, CancellationToken cancellationToken)
    {
        var pending = new List<byte>();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                int headEnd;
                while ((headEnd = IndexOfHeadEnd(pending)) < 0)
                {
                    if (pending.Count > MaxHeadBytes || !await ReadMoreAsync(client, buffer, pending, cancellationToken))
                    {
                        return;
                    }
                }

                var head = Encoding.ASCII.GetString([.. pending.GetRange(0, headEnd)]);
                var total = headEnd + 4 + ContentLength(head);
                while (pending.Count < total)
                {
                    if (!await ReadMoreAsync(client, buffer, pending, cancellationToken))
                    {
                        return;
                    }
                }

                if (Answer?.Invoke(head) is { } answer)
                {
                    await client.WriteAsync(answer, cancellationToken);
                    await client.FlushAsync(cancellationToken);
                    client.Socket.Shutdown(SocketShutdown.Send);
                    return;
                }

                await upstream.WriteAsync(pending.GetRange(0, total).ToArray(), cancellationToken);
                pending.RemoveRange(0, total);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private async Task ForwardResponsesAsync(NetworkStream upstream, NetworkStream client, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        long sent = 0;
        try
        {
            int read;
            while ((read = await upstream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                if (StallResponsesAfterBytes is { } limit && sent + read > limit)
                {
                    await client.WriteAsync(buffer.AsMemory(0, (int)Math.Max(0, limit - sent)), cancellationToken);
                    Interlocked.Increment(ref _stalls);
                    await Task.Delay(Timeout.Infinite, cancellationToken);
                }

                await client.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                sent += read;
                Interlocked.Add(ref _responseBytes, read);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
        }
    }

    private static async Task<bool> ReadMoreAsync(NetworkStream stream, byte[] buffer, List<byte> pending, CancellationToken cancellationToken)
    {
        var read = await stream.ReadAsync(buffer, cancellationToken);
        pending.AddRange(buffer.AsSpan(0, read));
        return read > 0;
    }

    private static int IndexOfHeadEnd(List<byte> bytes)
    {
        for (var i = 0; i + 3 < bytes.Count; i++)
        {
            if (bytes[i] == '\r' && bytes[i + 1] == '\n' && bytes[i + 2] == '\r' && bytes[i + 3] == '\n')
            {
                return i;
            }
        }

        return -1;
    }

    private static int ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("content-length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line.AsSpan("content-length:".Length).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
