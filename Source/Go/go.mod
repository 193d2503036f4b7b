module pauseguard.dev/pauseguard

go 1.19
