using System.IO.Pipelines;
using Microsoft.AspNetCore.Http.Features;

namespace ServingStack.Inference.Protocols.Grpc;

/// <summary>
/// A request body that <see cref="GrpcUnaryCallMiddleware"/> has already read to its end: the first read hands back that
/// final read of the connection's pipe (not advanced past, so its memory is still the pipe's), and everything after it
/// goes to the pipe. grpc-dotnet thus gets the whole message without reading the stream again, so a client reset
/// after the upload cannot surface as an exception inside grpc-dotnet's own read.
/// </summary>
internal sealed class ReadRequestBody(PipeReader inner, ReadResult final) : PipeReader, IRequestBodyPipeFeature
{
    private ReadResult? _final = final;

    public PipeReader Reader => this;

    public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
        TryTakeFinal(out var result) ? ValueTask.FromResult(result) : inner.ReadAsync(cancellationToken);

    public override bool TryRead(out ReadResult result) => TryTakeFinal(out result) || inner.TryRead(out result);

    public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
    {
        try
        {
            inner.AdvanceTo(consumed, examined);
        }
        catch (IOException)
        {
            // Kestrel refuses even this once the client has reset the stream. The message was whole and has been read;
            // the call goes on and ends through its cancelled token, without grpc-dotnet seeing an exception.
        }
    }

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    private bool TryTakeFinal(out ReadResult result)
    {
        if (_final is { } final)
        {
            _final = null;
            result = final;
            return true;
        }

        result = default;
        return false;
    }
}
