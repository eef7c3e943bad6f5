[assembly: Plexus.PlexusPlugin("incompatible")]
