module pauseguard

go 1.19
