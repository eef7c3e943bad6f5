namespace Plexus.Test.MissingLib;

public static class Missing
{
    public static string Value => "present";
}
