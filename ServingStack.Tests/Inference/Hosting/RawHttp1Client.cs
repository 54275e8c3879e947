using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ServingStack.Tests.Inference.Hosting;

/// <summary>
/// An HTTP/1.1 keep-alive client with no hidden retries (HttpClient silently resends a request whose reused connection
/// was closed under it, which would hide exactly the failures a drain must prevent). It keeps one connection until the
/// server answers <c>Connection: close</c>; a connection that ends before a complete response is a lost request.
/// </summary>
public sealed class RawHttp1Client : IDisposable
{
    private Socket? _socket;
    private NetworkStream? _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    /// <summary>The endpoint of the open connection; null between connections.</summary>
    public IPEndPoint? ConnectedTo { get; private set; }

    public bool IsConnected => _stream is not null;

    public async Task ConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        Close();
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endpoint, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
        ConnectedTo = endpoint;
    }

    /// <summary>Sends one request on the open connection and reads its whole response (Content-Length or chunked).</summary>
    public async Task<Http1Response> SendAsync(string method, string path, byte[] body, CancellationToken cancellationToken)
    {
        var stream = _stream ?? throw new InvalidOperationException("not connected");
        var head = string.Create(CultureInfo.InvariantCulture,
            $"{method} {path} HTTP/1.1\r\nHost: {ConnectedTo}\r\nContent-Type: application/json\r\nContent-Length: {body.Length}\r\n\r\n");
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head), cancellationToken);
        await stream.WriteAsync(body, cancellationToken);

        var statusLine = await ReadLineAsync(cancellationToken);
        var parts = statusLine.Split(' ', 3);
        var status = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            var line = await ReadLineAsync(cancellationToken);
            if (line.Length == 0)
            {
                break;
            }

            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var content = new MemoryStream();
        if (headers.TryGetValue("Content-Length", out var length))
        {
            await ReadExactlyAsync(content, int.Parse(length, CultureInfo.InvariantCulture), cancellationToken);
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                var size = int.Parse(await ReadLineAsync(cancellationToken), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                await ReadExactlyAsync(content, size, cancellationToken);
                await ReadLineAsync(cancellationToken);
                if (size == 0)
                {
                    break;
                }
            }
        }

        var close = headers.TryGetValue("Connection", out var connection) && connection.Contains("close", StringComparison.OrdinalIgnoreCase);
        return new Http1Response(status, close, Encoding.UTF8.GetString(content.ToArray()));
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        while (true)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var b = _buffer[_start++];
            if (b == '\n')
            {
                return line.ToString().TrimEnd('\r');
            }

            line.Append((char)b);
        }
    }

    private async Task ReadExactlyAsync(MemoryStream into, int count, CancellationToken cancellationToken)
    {
        while (count > 0)
        {
            if (_start == _end)
            {
                await FillAsync(cancellationToken);
            }

            var take = Math.Min(count, _end - _start);
            into.Write(_buffer, _start, take);
            _start += take;
            count -= take;
        }
    }

    private async Task FillAsync(CancellationToken cancellationToken)
    {
        _start = 0;
        _end = await _stream!.ReadAsync(_buffer, cancellationToken);
        if (_end == 0)
        {
            throw new IOException("the server closed the connection before a complete response");
        }
    }

    public void Close()
    {
        _stream?.Dispose();
        _stream = null;
        _socket = null;
        ConnectedTo = null;
        _start = _end = 0;
    }

    public void Dispose() => Close();
}
