namespace Plexus.Transport.Rdma.Workers;

/// <summary>Something to do on a worker's thread.</summary>
internal interface IUcxWork
{
    void Run(UcxWorker worker);

    void Fail(Exception exception);
}

/// <summary>A call made on the worker's thread, its result handed back as a task.</summary>
internal sealed class Work<T>(Func<UcxWorker, T> work) : IUcxWork
{
    private readonly TaskCompletionSource<T> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<T> Task => _done.Task;

    public void Run(UcxWorker worker)
    {
        try
        {
            _done.TrySetResult(work(worker));
        }
        catch (Exception exception)
        {
            _done.TrySetException(exception);
        }
    }

    public void Fail(Exception exception) => _done.TrySetException(exception);
}

/// <summary>A non-blocking UCX operation started on the worker's thread and completed when UCX says so.</summary>
internal sealed class RequestWork(Func<UcxWorker, nint> start, string what, Action<UcxWorker>? cleanup = null) : IUcxWork
{
    private readonly TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Task => _done.Task;

    public void Run(UcxWorker worker)
    {
        nint request;
        try
        {
            request = start(worker);
        }
        catch (Exception exception)
        {
            _done.TrySetException(exception);
            return;
        }

        worker.Track(request, this);
    }

    /// <summary>Runs on the worker's thread once UCX is done with the operation (frees what it used, such as an rkey).</summary>
    public void Cleanup(UcxWorker worker) => cleanup?.Invoke(worker);

    public void Complete(int status)
    {
        if (status == Native.UcpConstants.UCS_OK)
        {
            _done.TrySetResult();
        }
        else
        {
            _done.TrySetException(new UcxException($"{what} failed: {Native.Ucp.StatusText(status)}.", status));
        }
    }

    public void Fail(Exception exception) => _done.TrySetException(exception);
}
