[assembly: Plexus.PlexusPlugin("missing-native")]
