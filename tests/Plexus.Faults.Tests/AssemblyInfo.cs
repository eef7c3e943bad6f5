// Every test runs a whole cluster (three etcd members, two or three nodes, a client) on a two-core machine; two at once
// would only make the timing bounds they assert meaningless.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
