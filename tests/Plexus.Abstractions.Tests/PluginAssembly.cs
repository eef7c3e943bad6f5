// The test assembly declares itself a plugin the way a third-party plugin assembly would.
[assembly: Plexus.PlexusPlugin("loopback")]
