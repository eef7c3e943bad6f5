using System.Buffers;
using Microsoft.Extensions.Time.Testing;
using Plexus.Hosting;

namespace Plexus.Host.Tests.RequestPlane;

/// <summary>The core's dispatcher on its own: the rules every transport gets from it.</summary>
public sealed class RequestDispatcherTests
{
    private static readonly EndpointAddress Endpoint = EndpointAddress.Parse("tests/dispatch/one");
    private static readonly InstanceId Instance = InstanceId.NewId();

    [Fact]
    public void Admit_refuses_unknown_endpoints_stale_instances_and_a_draining_server_as_safe_to_retry()
    {
        var dispatcher = new RequestDispatcher();
        dispatcher.Register(Endpoint, Instance, new Handler((_, _) => ValueTask.CompletedTask));

        Assert.Null(dispatcher.Admit(Endpoint, Instance));
        var unknown = dispatcher.Admit(EndpointAddress.Parse("tests/dispatch/other"), Instance);
        var stale = dispatcher.Admit(Endpoint, InstanceId.NewId());
        Assert.All([unknown!, stale!], e => Assert.Equal((PlexusErrorCode.Unavailable, true), (e.Code, e.BeforeFirstByte)));
        Assert.Contains(Instance.ToString(), stale!.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => dispatcher.Register(Endpoint, Instance, new Handler((_, _) => ValueTask.CompletedTask)));
    }

    [Fact]
    public async Task A_plain_exception_is_a_handler_error_and_a_plexus_exception_keeps_its_code_and_retry_flag_until_a_message_went_out()
    {
        var dispatcher = new RequestDispatcher();
        var refuse = new PlexusException(PlexusErrorCode.Overloaded, "full") { BeforeFirstByte = true };
        var respondFirst = false;
        dispatcher.Register(Endpoint, Instance, new Handler(async (_, responses) =>
        {
            if (respondFirst)
            {
                await responses.WriteMessageAsync("one"u8.ToArray());
            }

            throw refuse;
        }));

        var before = await DispatchAsync(dispatcher);
        respondFirst = true;
        var after = await DispatchAsync(dispatcher);

        Assert.Equal((PlexusErrorCode.Overloaded, "full", true), (before.Error!.Code, before.Error.Message, before.Error.BeforeFirstByte));
        Assert.NotSame(refuse, before.Error);
        Assert.Equal((PlexusErrorCode.Overloaded, false), (after.Error!.Code, after.Error.BeforeFirstByte));

        var plain = new RequestDispatcher();
        plain.Register(Endpoint, Instance, new Handler((_, _) => throw new InvalidOperationException("no tokens left")));
        var failed = await DispatchAsync(plain);
        Assert.Equal((PlexusErrorCode.HandlerError, "no tokens left", false), (failed.Error!.Code, failed.Error.Message, failed.Error.BeforeFirstByte));
    }

    [Fact]
    public async Task The_deadline_fires_the_handlers_token_and_ends_the_stream_with_timeout()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var dispatcher = new RequestDispatcher(time);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.Register(Endpoint, Instance, new Handler(async (request, _) =>
        {
            started.SetResult();
            await Task.Delay(Timeout.Infinite, request.RequestAborted);
        }));

        var channel = new RecordingChannel();
        var run = dispatcher.DispatchAsync(Request(deadline: time.GetUtcNow().AddSeconds(5)), channel).AsTask();
        await started.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(5));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(PlexusErrorCode.Timeout, channel.Error!.Code);
    }

    [Fact]
    public async Task A_deadline_further_than_any_timer_can_wait_is_served_as_if_it_had_none()
    {
        var dispatcher = new RequestDispatcher();
        dispatcher.Register(Endpoint, Instance, new Handler((_, responses) => responses.WriteMessageAsync("ok"u8.ToArray())));
        var channel = new RecordingChannel();

        await dispatcher.DispatchAsync(Request(deadline: DateTimeOffset.UtcNow.AddDays(60)), channel);

        Assert.Null(channel.Error);
        Assert.Equal(1, channel.Messages);
    }

    [Fact]
    public async Task The_clients_cancel_fires_the_handlers_token()
    {
        var dispatcher = new RequestDispatcher();
        var observed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.Register(Endpoint, Instance, new Handler(async (request, _) =>
        {
            try
            {
                await Task.Delay(Timeout.Infinite, request.RequestAborted);
            }
            finally
            {
                if (request.RequestAborted.IsCancellationRequested)
                {
                    observed.SetResult();
                }
            }
        }));

        using var client = new CancellationTokenSource();
        var channel = new RecordingChannel();
        var run = dispatcher.DispatchAsync(Request(aborted: client.Token), channel).AsTask();
        Assert.False(run.IsCompleted, $"dispatch ended at once: {channel.Error?.Message}");
        await client.CancelAsync();
        await observed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(PlexusErrorCode.Cancelled, channel.Error!.Code);
    }

    [Fact]
    public async Task A_drain_waits_for_what_is_in_flight_refuses_new_requests_and_aborts_what_outlasts_the_grace_period()
    {
        var dispatcher = new RequestDispatcher();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.Register(Endpoint, Instance, new Handler(async (request, responses) =>
        {
            await release.Task.WaitAsync(request.RequestAborted);
            await responses.WriteMessageAsync("done"u8.ToArray());
        }));

        var finishing = new RecordingChannel();
        var run = dispatcher.DispatchAsync(Request(), finishing).AsTask();
        Assert.Equal(1, dispatcher.InFlight);
        var drain = dispatcher.DrainAsync(null, CancellationToken.None).AsTask();
        Assert.False(drain.IsCompleted);
        Assert.Equal(PlexusErrorCode.Unavailable, dispatcher.Admit(Endpoint, Instance)!.Code);
        release.SetResult();
        Assert.True(await drain.WaitAsync(TimeSpan.FromSeconds(10)));
        await run;
        Assert.Null(finishing.Error);
        Assert.Equal(1, finishing.Messages);

        var stuck = new RequestDispatcher();
        stuck.Register(Endpoint, Instance, new Handler((request, _) => new ValueTask(Task.Delay(Timeout.Infinite, request.RequestAborted))));
        var aborted = new RecordingChannel();
        var stuckRun = stuck.DispatchAsync(Request(), aborted).AsTask();
        using var grace = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        Assert.False(await stuck.DrainAsync(null, grace.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await stuckRun.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(PlexusErrorCode.Unavailable, aborted.Error!.Code);
    }

    [Fact]
    public async Task A_request_the_server_hands_over_while_it_stops_accepting_is_waited_for()
    {
        var dispatcher = new RequestDispatcher();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        dispatcher.Register(Endpoint, Instance, new Handler(async (request, responses) =>
        {
            await release.Task.WaitAsync(request.RequestAborted);
            await responses.WriteMessageAsync("done"u8.ToArray());
        }));

        // Admitted before the drain, handed over only while the server stops accepting (its payload was still arriving).
        var channel = new RecordingChannel();
        Task? run = null;
        var server = new Moq.Mock<IRequestPlaneServer>();
        server.Setup(s => s.StopAcceptingAsync(Moq.It.IsAny<CancellationToken>())).Returns(() =>
        {
            run = dispatcher.DispatchAsync(Request(), channel).AsTask();
            return ValueTask.CompletedTask;
        });

        var drain = dispatcher.DrainAsync(server.Object, CancellationToken.None).AsTask();
        await Task.Delay(100);
        Assert.False(drain.IsCompleted, "The drain ended while a request handed over during it was still running.");
        release.SetResult();
        Assert.True(await drain.WaitAsync(TimeSpan.FromSeconds(10)));
        await run!;
        Assert.Equal((1, (PlexusException?)null), (channel.Messages, channel.Error));
    }

    private static IncomingRequest Request(DateTimeOffset? deadline = null, CancellationToken aborted = default) =>
        new(Endpoint, Instance, "r1", ReadOnlySequence<byte>.Empty, new Dictionary<string, string>(), deadline, aborted);

    private static async Task<RecordingChannel> DispatchAsync(RequestDispatcher dispatcher)
    {
        var channel = new RecordingChannel();
        await dispatcher.DispatchAsync(Request(), channel);
        Assert.Equal(1, channel.Completions);
        return channel;
    }

    private sealed class Handler(Func<RequestContext, IResponseWriter, ValueTask> handle) : IEndpointHandler
    {
        public ValueTask HandleAsync(RequestContext request, IResponseWriter responses) => handle(request, responses);
    }

    /// <summary>A response channel that records what the dispatcher did with it.</summary>
    private sealed class RecordingChannel : IResponseChannel
    {
        private readonly ArrayBufferWriter<byte> _buffer = new();

        public int Messages { get; private set; }

        public int Completions { get; private set; }

        public PlexusException? Error { get; private set; }

        public bool HasResponded => Messages > 0;

        public void Advance(int count) => _buffer.Advance(count);

        public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.GetMemory(sizeHint);

        public Span<byte> GetSpan(int sizeHint = 0) => _buffer.GetSpan(sizeHint);

        public void EndMessage()
        {
            Messages++;
            _buffer.Clear();
        }

        public ValueTask FlushAsync(CancellationToken cancellationToken = default) => ValueTask.CompletedTask;

        public ValueTask CompleteAsync(PlexusException? error)
        {
            Completions++;
            Error = error;
            return ValueTask.CompletedTask;
        }
    }
}
