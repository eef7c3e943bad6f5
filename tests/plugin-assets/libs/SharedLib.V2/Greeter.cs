namespace Plexus.Test.SharedLib;

public static class Greeter
{
    public static string Greet() => "v2";
}
