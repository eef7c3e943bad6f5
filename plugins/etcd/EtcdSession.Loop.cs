using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace Plexus.Discovery.Etcd;

/// <summary>The session's loop: the only code that talks to etcd for registrations.</summary>
internal sealed partial class EtcdSession
{
    private async Task RunAsync()
    {
        var stop = _stop.Token;
        var backoff = new Backoff();
        var failures = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await EnsureLeaseAsync(stop);
                await FlushAsync(stop);
                MarkReachable();
                failures = 0;
                backoff.Reset();
                await KeepAliveAsync(stop);
            }
            catch (LeaseGoneException gone) when (!stop.IsCancellationRequested)
            {
                LeaseLost(gone.LeaseId, gone.Reason);
            }
            catch (Exception ex) when (!stop.IsCancellationRequested)
            {
                // One failure may be a member going away with the others still there: try again at once, quietly.
                EtcdLog.AttemptFailed(_logger, LeaseId, ++failures, _connection.Describe(ex));
                if (failures >= 2)
                {
                    MarkUnreachable(ex);
                }

                try
                {
                    await Task.Delay(failures >= 2 ? backoff.Next() : TimeSpan.FromMilliseconds(100), stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            catch (Exception)
            {
                return;
            }
        }
    }

    private async Task EnsureLeaseAsync(CancellationToken stop)
    {
        var lease = LeaseId;
        if (lease != 0 && DateTime.UtcNow < _aliveUntil)
        {
            // A renewal failed, but the lease still has time left: renew again at once. Checking first would cost a call
            // that, sent to a member that went silent (its host cut off), waits out a whole request timeout, which
            // can be all the lease has left; the renewal itself says if the lease is gone (a time to live of 0).
            return;
        }

        if (lease != 0)
        {
            // Back after a failure: the lease outlives an outage shorter than its time to live, and then every key is
            // still there; otherwise etcd deleted them with it.
            // etcd answers -1 for a lease it does not know; 0 means under a second left, which the keep-alive that
            // follows at once extends (or finds gone).
            var alive = await _connection.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease }, deadline: _connection.Deadline(), cancellationToken: stop);
            if (alive.TTL >= 0)
            {
                return;
            }

            throw new LeaseGoneException(lease, "it expired or was revoked while this node could not renew it");
        }

        var granted = await _connection.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = TtlSeconds }, deadline: _connection.Deadline(), cancellationToken: stop);
        if (!string.IsNullOrEmpty(granted.Error))
        {
            throw new RpcException(new Status(StatusCode.Unknown, granted.Error));
        }

        lock (_gate)
        {
            Interlocked.Exchange(ref _leaseId, granted.ID);

            // Under a new lease nothing is written yet, and nothing of ours is left to delete.
            foreach (var registration in _registrations.Values)
            {
                registration.WrittenVersion = 0;
            }

            _pendingDeletes.Clear();
        }

        _aliveUntil = DateTime.UtcNow + TimeSpan.FromSeconds(granted.TTL);
        EtcdLog.LeaseGranted(_logger, granted.ID, granted.TTL);
    }

    /// <summary>Writes every pending delete, then every registration that changed, under the current lease.</summary>
    private async Task FlushAsync(CancellationToken stop)
    {
        string[] deletes;
        List<(EtcdRegistration Registration, Instance Instance, long Version)> puts;
        long upTo;
        var lease = LeaseId;
        lock (_gate)
        {
            upTo = _changes;
            deletes = [.. _pendingDeletes];
            puts = [.. _registrations.Values.Where(r => r.Dirty).Select(r => (r, r.Instance, r.Version))];
        }

        foreach (var key in deletes)
        {
            // Only while this lease owns the key: another process may have registered the same instance since.
            var keyBytes = ByteString.CopyFromUtf8(key);
            var txn = new TxnRequest();
            txn.Compare.Add(new Compare { Key = keyBytes, Target = Compare.Types.CompareTarget.Lease, Result = Compare.Types.CompareResult.Equal, Lease = lease });
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = keyBytes } });
            await _connection.KV.TxnAsync(txn, deadline: _connection.Deadline(), cancellationToken: stop);
            lock (_gate)
            {
                _pendingDeletes.Remove(key);
            }
        }

        foreach (var (registration, instance, version) in puts)
        {
            lock (_gate)
            {
                if (!registration.Dirty)
                {
                    continue;
                }
            }

            try
            {
                var put = new PutRequest { Key = ByteString.CopyFromUtf8(registration.Key), Value = ByteString.CopyFrom(EtcdInstanceRecord.Serialize(instance)), Lease = lease };
                await _connection.KV.PutAsync(put, deadline: _connection.Deadline(), cancellationToken: stop);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.NotFound && ex.Status.Detail.Contains("lease", StringComparison.OrdinalIgnoreCase))
            {
                throw new LeaseGoneException(lease, "etcd no longer knows it (it expired or was revoked)");
            }

            lock (_gate)
            {
                registration.WrittenVersion = Math.Max(registration.WrittenVersion, version);
            }
        }

        lock (_gate)
        {
            _flushed = Math.Max(_flushed, upTo);
        }

        Pulse();
    }

    /// <summary>Renews the lease every third of its time to live on one stream, writing changes as they come in between.</summary>
    private async Task KeepAliveAsync(CancellationToken stop)
    {
        var lease = LeaseId;
        var period = TimeSpan.FromSeconds(TtlSeconds) / 3;
        using var call = _connection.Lease.LeaseKeepAlive(cancellationToken: stop);
        while (true)
        {
            using (var answer = CancellationTokenSource.CreateLinkedTokenSource(stop))
            {
                // A renewal that hangs (the member lost its leader, or its host was cut off) is given up after a third of
                // the time to live, so that the next one, on a fresh stream, still has time to reach a member that
                // answers; and after half the time the lease has left, so that a renewal that follows one given up
                // leaves room for yet another (the fresh stream may go to the silent member again).
                answer.CancelAfter(AnswerTimeout(period));

                // The write shares the bound: nothing about a renewal may wait longer than its answer.
                await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, answer.Token);

                // gRPC does not always give up waiting on the token: a stream that went out on a connection whose
                // member fell silent was seen to wait seconds past it, until the lease was gone. The stream is
                // disposed (cancelled) on the way out.
                if (!await call.ResponseStream.MoveNext(answer.Token).WaitAsync(answer.Token))
                {
                    throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the lease keep-alive stream"));
                }
            }

            if (call.ResponseStream.Current.TTL <= 0)
            {
                throw new LeaseGoneException(lease, "etcd answered a renewal with a time to live of 0: it expired or was revoked");
            }

            _aliveUntil = DateTime.UtcNow + TimeSpan.FromSeconds(call.ResponseStream.Current.TTL);

            var due = DateTime.UtcNow + period;
            for (var left = period; left > TimeSpan.Zero; left = due - DateTime.UtcNow)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(stop);
                wait.CancelAfter(left);
                try
                {
                    await _wake.Reader.ReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                {
                    break;
                }

                await FlushAsync(stop);
            }
        }
    }

    /// <summary>How long to wait for a renewal's answer: a third of the time to live (at most the request timeout), and
    /// at most half of what the lease has left, but not under 200 ms.</summary>
    private TimeSpan AnswerTimeout(TimeSpan period)
    {
        var timeout = period < _connection.RequestTimeout ? period : _connection.RequestTimeout;
        var half = (_aliveUntil - DateTime.UtcNow) / 2;
        if (half > TimeSpan.Zero && half < timeout)
        {
            timeout = half < TimeSpan.FromMilliseconds(200) ? TimeSpan.FromMilliseconds(200) : half;
        }

        return timeout;
    }

    private void LeaseLost(long lease, string reason)
    {
        int count;
        lock (_gate)
        {
            if (Interlocked.CompareExchange(ref _leaseId, 0, lease) != lease)
            {
                return;
            }

            count = _registrations.Count;
            foreach (var registration in _registrations.Values)
            {
                registration.WrittenVersion = 0;
            }

            _pendingDeletes.Clear();
        }

        EtcdLog.LeaseLost(_logger, lease, reason, count);
    }

    // Only the loop calls these two, so the problem changes on one thread; the line is logged before the change shows
    // in Health, so whoever sees the change finds the line.
    private void MarkUnreachable(Exception exception)
    {
        var problem = _connection.Describe(exception);
        int count;
        bool first;
        lock (_gate)
        {
            first = _problem is null;
            count = _registrations.Count;
        }

        if (first)
        {
            _outageSince = DateTime.UtcNow;
            EtcdLog.Unreachable(_logger, problem, count, Backoff.Max);
        }

        lock (_gate)
        {
            _problem = problem;
        }

        Pulse();
    }

    private void MarkReachable()
    {
        int count;
        lock (_gate)
        {
            if (_problem is null)
            {
                return;
            }

            count = _registrations.Count;
        }

        EtcdLog.Reachable(_logger, DateTime.UtcNow - _outageSince, count, LeaseId);
        lock (_gate)
        {
            _problem = null;
        }

        Pulse();
    }
}
