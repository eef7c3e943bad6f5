using System.Text.Json;

namespace Plexus.Hosting.Cluster;

/// <summary>
/// A member's request to the seed over mutual TLS: <c>heartbeat</c>, <c>renew</c> (a new certificate), and the
/// discovery operations of the <c>seed</c> provider (<c>register</c>, <c>renew-lease</c>, <c>update</c>, <c>remove</c>,
/// <c>list</c>, <c>watch</c>).
/// </summary>
internal sealed record ControlRequest(
    string Op,
    string? Node = null,
    string[]? Addresses = null,
    byte[]? SigningRequest = null,
    string[]? Hosts = null,
    JsonElement? Instance = null,
    long? TtlMs = null,
    string? Endpoint = null,
    string? Id = null,
    Dictionary<string, string>? Metadata = null);

/// <summary>The seed's answer (one, or a stream of them for <c>watch</c>).</summary>
internal sealed record ControlResponse(
    string? Error = null,
    string? Code = null,
    ClusterMember[]? Members = null,
    string? Certificate = null,
    JsonElement[]? Instances = null,
    string? Kind = null,
    JsonElement? Instance = null);
