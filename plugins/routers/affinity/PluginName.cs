// The plugin's name, in a file of its own so that the test build against another contracts version can name itself apart.
[assembly: Plexus.PlexusPlugin("affinity")]
