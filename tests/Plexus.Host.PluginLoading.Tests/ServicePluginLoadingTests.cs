using System.Reflection;
using System.Reflection.Emit;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Plexus.Hosting.Plugins;

namespace Plexus.Host.PluginLoading.Tests;

/// <summary>A plugin of [PlexusEndpoint] handlers alone is a plugin of kind <c>service</c>; bad marks fail it with one line.</summary>
public sealed class ServicePluginLoadingTests
{
    [Fact]
    public void A_plugin_of_handlers_alone_loads_as_a_service_with_its_endpoints()
    {
        var loaded = TestPlugins.Load("greeter");

        PluginInfo greeter = loaded["greeter"];
        Assert.Equal(PluginStatus.Loaded, greeter.Status);
        Assert.Null(greeter.Error);
        Assert.Equal("2.0.1", greeter.Version);
        Assert.Equal(["service"], greeter.Kinds);
        Assert.Equal(["greeter/echo/echo", "greeter/hello/greet", "greeter/hello/wave"], greeter.Endpoints.Select(e => e.Endpoint.ToString()));
        Assert.All(greeter.Endpoints, e => Assert.Equal("greeter", e.Plugin));
        Assert.Equal(
            ["Plexus.Test.GreeterService.EchoBackHandler", "Plexus.Test.GreeterService.GreetHandler"],
            greeter.Components[typeof(IEndpointHandler)].Select(t => t.FullName).Order(StringComparer.Ordinal));

        // One singleton per handler class, however many endpoints it serves.
        var handlers = loaded.Services.Where(d => d.ServiceType.Assembly.GetName().Name == "Plexus.Test.GreeterService" && typeof(IEndpointHandler).IsAssignableFrom(d.ServiceType)).ToArray();
        Assert.Equal(2, handlers.Length);
        Assert.All(handlers, d => Assert.Equal(ServiceLifetime.Singleton, d.Lifetime));
        Assert.Empty(loaded.Catalog.Failures);
    }

    [Fact]
    public void The_catalog_json_shows_the_service_kind_its_handlers_and_its_endpoints()
    {
        var loaded = TestPlugins.Load("greeter", "good");
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            loaded.Catalog.WriteJson(writer);
        }

        using var json = JsonDocument.Parse(stream.ToArray());
        var byName = json.RootElement.EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var greeter = byName["greeter"];
        Assert.Equal(["service"], greeter.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(
            ["Plexus.Test.GreeterService.EchoBackHandler", "Plexus.Test.GreeterService.GreetHandler"],
            greeter.GetProperty("components").GetProperty("service").EnumerateArray().Select(t => t.GetString()).Order(StringComparer.Ordinal));
        Assert.Equal(["greeter/echo/echo", "greeter/hello/greet", "greeter/hello/wave"], greeter.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(0, byName["good"].GetProperty("endpoints").GetArrayLength());
    }

    [Fact]
    public void A_marked_class_with_a_bad_address_fails_its_plugin_and_registers_nothing_of_it()
    {
        var loaded = TestPlugins.Load("bad-service", "greeter");

        PluginInfo bad = loaded["bad-service"];
        Assert.Equal(PluginStatus.Failed, bad.Status);
        FailureLine.Assert(bad.Error, "bad-service", "Plexus.Test.BadService.BadHandler is marked [PlexusEndpoint(\"bad/address\")], which is not an endpoint address");
        Assert.Contains("namespace/component/endpoint", bad.Error!, StringComparison.Ordinal);
        Assert.Empty(bad.Endpoints);
        Assert.DoesNotContain(loaded.Services, d => d.ServiceType.Assembly.GetName().Name == "Plexus.Test.BadService");
        Assert.Equal(PluginStatus.Loaded, loaded["greeter"].Status);
    }

    [Fact]
    public void One_class_may_serve_several_endpoints_listed_in_address_order()
    {
        var assembly = Emit(("Multi", Handler: true, Abstract: false, ["b/c/d", "a/b/c"]), ("Unmarked", Handler: true, Abstract: false, []));

        var (endpoints, cause, _) = PluginEndpointScan.Find("p", assembly);

        Assert.Null(cause);
        Assert.Equal(["a/b/c", "b/c/d"], endpoints.Select(e => e.Endpoint.ToString()));
        Assert.All(endpoints, e => Assert.Equal("Multi", e.HandlerType.Name));
    }

    [Theory]
    [InlineData(false, false, "a/b/c", null, "NotAHandler is marked [PlexusEndpoint] but does not implement IEndpointHandler")]
    [InlineData(true, true, "a/b/c", null, "NotAHandler is marked [PlexusEndpoint] but is abstract or generic, so it cannot be created")]
    [InlineData(true, false, "a/b/c", "a/b/c", "NotAHandler is marked [PlexusEndpoint(\"a/b/c\")] twice")]
    [InlineData(true, false, "a/b/c d", null, "NotAHandler is marked [PlexusEndpoint(\"a/b/c d\")], which is not an endpoint address")]
    public void A_class_that_cannot_serve_its_mark_is_a_failure_naming_it(bool handler, bool @abstract, string first, string? second, string cause)
    {
        var assembly = Emit(("NotAHandler", handler, @abstract, second is null ? [first] : [first, second]));

        var (endpoints, found, fix) = PluginEndpointScan.Find("p", assembly);

        Assert.Empty(endpoints);
        Assert.Equal(cause, found);
        Assert.False(string.IsNullOrEmpty(fix));
    }

    [Fact]
    public void Two_classes_marked_with_one_endpoint_are_a_failure_naming_both()
    {
        var assembly = Emit(("First", Handler: true, Abstract: false, ["a/b/c"]), ("Second", Handler: true, Abstract: false, ["a/b/c"]));

        var (_, cause, _) = PluginEndpointScan.Find("p", assembly);

        Assert.Equal("First and Second both serve a/b/c", cause);
    }

    /// <summary>An in-memory assembly of classes, each optionally a handler, marked with the given endpoints.</summary>
    private static Assembly Emit(params (string Name, bool Handler, bool Abstract, string[] Endpoints)[] types)
    {
        var assembly = AssemblyBuilder.DefineDynamicAssembly(new AssemblyName("Scan" + Guid.NewGuid().ToString("N")), AssemblyBuilderAccess.Run);
        var module = assembly.DefineDynamicModule("Scan");
        var mark = typeof(PlexusEndpointAttribute).GetConstructor([typeof(string)])!;
        foreach (var (name, handler, @abstract, endpoints) in types)
        {
            var type = module.DefineType(name, TypeAttributes.Public | TypeAttributes.Class | (@abstract ? TypeAttributes.Abstract : TypeAttributes.Sealed));
            type.DefineDefaultConstructor(MethodAttributes.Public);
            foreach (var endpoint in endpoints)
            {
                type.SetCustomAttribute(new CustomAttributeBuilder(mark, [endpoint]));
            }

            if (handler)
            {
                type.AddInterfaceImplementation(typeof(IEndpointHandler));
                var handle = type.DefineMethod(
                    nameof(IEndpointHandler.HandleAsync),
                    MethodAttributes.Public | MethodAttributes.Virtual | MethodAttributes.Final | MethodAttributes.NewSlot | MethodAttributes.HideBySig,
                    typeof(ValueTask),
                    [typeof(RequestContext), typeof(IResponseWriter)]);
                var il = handle.GetILGenerator();
                il.Emit(OpCodes.Newobj, typeof(NotSupportedException).GetConstructor(Type.EmptyTypes)!);
                il.Emit(OpCodes.Throw);
                type.DefineMethodOverride(handle, typeof(IEndpointHandler).GetMethod(nameof(IEndpointHandler.HandleAsync))!);
            }

            type.CreateType();
        }

        return assembly;
    }
}
