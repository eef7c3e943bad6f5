using System.Runtime.InteropServices;
using Plexus.Transport.Rdma.Native;

namespace Plexus.Transport.Rdma.Workers;

/// <summary>Endpoints to peers' workers, one per peer address, created on first use and dropped when UCX reports them failed.</summary>
internal sealed unsafe partial class UcxWorker
{
    // Unpacking a remote key maps the owner's shared-memory segment; doing it per transfer (and unmapping after) cost
    // page faults over the whole region every time (0.3 GB/s against 19 GB/s measured). Keys are kept per endpoint and
    // packed bytes, up to this many; beyond it, all are destroyed and unpacked again as used.
    private const int MaxRemoteKeys = 256;

    private readonly Dictionary<string, nint> _endpoints = [];
    private readonly Dictionary<nint, string> _endpointPeers = [];
    private readonly Dictionary<(nint Endpoint, string Key), nint> _remoteKeys = [];
    private GCHandle _self;

    /// <summary>The endpoint to the worker at <paramref name="address"/> (worker thread only).</summary>
    internal nint Endpoint(ReadOnlySpan<byte> address)
    {
        var key = Convert.ToBase64String(address);
        if (_endpoints.TryGetValue(key, out var existing))
        {
            return existing;
        }

        if (!_self.IsAllocated)
        {
            _self = GCHandle.Alloc(this);
        }

        fixed (byte* a = address)
        {
            ucp_ep_params_t parameters = default;
            parameters.field_mask = UcpConstants.UCP_EP_PARAM_FIELD_REMOTE_ADDRESS;
            parameters.address = (nint)a;

            // UCX 1.13's shared-memory and cma transports cannot report a failed peer, so asking for peer error handling
            // makes UCX carry every transfer over its tcp transport (measured: 0.8 GB/s against 19 GB/s). Without it, a
            // transfer to a peer that died fails with UCX's error or runs into TransferTimeout.
            if (_peerErrorHandling)
            {
                parameters.field_mask |= UcpConstants.UCP_EP_PARAM_FIELD_ERR_HANDLING_MODE | UcpConstants.UCP_EP_PARAM_FIELD_ERR_HANDLER;
                parameters.err_mode = UcpConstants.UCP_ERR_HANDLING_MODE_PEER;
                parameters.err_handler.cb = (nint)(delegate* unmanaged<nint, nint, sbyte, void>)&OnEndpointError;
                parameters.err_handler.arg = (void*)GCHandle.ToIntPtr(_self);
            }
            nint endpoint;
            var rv = Ucp.ucp_ep_create(_worker, &parameters, &endpoint);
            if (rv != UcpConstants.UCS_OK)
            {
                throw new UcxException($"No UCX endpoint to the peer could be created: {Ucp.StatusText(rv)}.", rv);
            }

            _endpoints[key] = endpoint;
            _endpointPeers[endpoint] = key;
            return endpoint;
        }
    }

    /// <summary>Keeps a request UCX returned until it completes (worker thread only).</summary>
    internal void Track(nint request, RequestWork work)
    {
        if (request == 0)
        {
            work.Cleanup(this);
            work.Complete(UcpConstants.UCS_OK);
        }
        else if (Ucp.IsError(request))
        {
            work.Cleanup(this);
            work.Complete(Ucp.ErrorStatus(request));
        }
        else
        {
            _pending.Add(new PendingRequest(request, work));
        }
    }

    /// <summary>The unpacked remote key of a region of the peer at <paramref name="endpoint"/> (worker thread only); kept for reuse.</summary>
    internal nint RemoteKey(nint endpoint, ReadOnlySpan<byte> packed)
    {
        var cacheKey = (endpoint, Convert.ToBase64String(packed));
        if (_remoteKeys.TryGetValue(cacheKey, out var cached))
        {
            return cached;
        }

        if (_remoteKeys.Count >= MaxRemoteKeys)
        {
            DestroyRemoteKeys(0);
        }

        fixed (byte* key = packed)
        {
            nint unpacked;
            var rv = Ucp.ucp_ep_rkey_unpack(endpoint, key, &unpacked);
            if (rv != UcpConstants.UCS_OK)
            {
                throw new UcxException($"The region's remote key could not be unpacked (ucp_ep_rkey_unpack): {Ucp.StatusText(rv)}.", rv);
            }

            _remoteKeys[cacheKey] = unpacked;
            return unpacked;
        }
    }

    /// <summary>Destroys the kept remote keys of one endpoint, or of all when <paramref name="endpoint"/> is 0.</summary>
    private void DestroyRemoteKeys(nint endpoint)
    {
        List<(nint, string)>? gone = null;
        foreach (var (cacheKey, rkey) in _remoteKeys)
        {
            if (endpoint == 0 || cacheKey.Endpoint == endpoint)
            {
                Ucp.ucp_rkey_destroy(rkey);
                (gone ??= []).Add(cacheKey);
            }
        }

        if (gone is not null)
        {
            foreach (var cacheKey in gone)
            {
                _remoteKeys.Remove(cacheKey);
            }
        }
    }

    [UnmanagedCallersOnly]
    private static void OnEndpointError(nint arg, nint endpoint, sbyte status)
    {
        try
        {
            if (GCHandle.FromIntPtr(arg).Target is UcxWorker worker && worker._endpointPeers.Remove(endpoint, out var key))
            {
                // The peer is gone: the next transfer to that address makes a new endpoint (and fails if it is still gone).
                worker._endpoints.Remove(key);
                worker.DestroyRemoteKeys(endpoint);
                worker._failedEndpoints.Add(endpoint);
                UcxLog.PeerFailed(worker._logger, Ucp.StatusText(status));
            }
        }
        catch
        {
            // Nothing may cross back into UCX; the transfers on the endpoint fail with their own status.
        }
    }

    private readonly List<nint> _failedEndpoints = [];

    private void DestroyEndpoints()
    {
        DestroyRemoteKeys(0);
        var all = new List<nint>(_endpoints.Values);
        all.AddRange(_failedEndpoints);
        _endpoints.Clear();
        _endpointPeers.Clear();
        _failedEndpoints.Clear();
        foreach (var endpoint in all)
        {
            ucp_request_param_t parameters = default;
            parameters.op_attr_mask = UcpConstants.UCP_OP_ATTR_FIELD_FLAGS;
            parameters.flags = UcpConstants.UCP_EP_CLOSE_FLAG_FORCE;
            var request = Ucp.ucp_ep_close_nbx(endpoint, &parameters);
            if (request != 0 && !Ucp.IsError(request))
            {
                for (var i = 0; i < 1000 && Ucp.ucp_request_check_status(request) == UcpConstants.UCS_INPROGRESS; i++)
                {
                    Ucp.ucp_worker_progress(_worker);
                }

                Ucp.ucp_request_free(request);
            }
        }

        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }
}
