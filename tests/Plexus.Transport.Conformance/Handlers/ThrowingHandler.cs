namespace Plexus.Transport.Conformance;

/// <summary>Writes <c>messagesBefore</c> messages ("message 0", "message 1", …), then throws the given exception.</summary>
internal sealed class ThrowingHandler(Exception toThrow, int messagesBefore = 0) : IEndpointHandler
{
    public static byte[] MessageAt(int index) => System.Text.Encoding.UTF8.GetBytes($"message {index}");

    public async ValueTask HandleAsync(RequestContext request, IResponseWriter responses)
    {
        for (var i = 0; i < messagesBefore; i++)
        {
            await responses.WriteMessageAsync(MessageAt(i), request.RequestAborted);
        }

        throw toThrow;
    }
}
