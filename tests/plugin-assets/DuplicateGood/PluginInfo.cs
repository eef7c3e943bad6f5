// Claims the name of the GoodTransport plugin.
[assembly: Plexus.PlexusPlugin("good")]
