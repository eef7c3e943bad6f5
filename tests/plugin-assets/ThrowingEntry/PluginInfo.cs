[assembly: Plexus.PlexusPlugin("throwing-entry")]
