module meshauth.dev/ciliumpeer

go 1.26
