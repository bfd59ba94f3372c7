module github.com/calfed/calfed

go 1.26.8

require (
	github.com/emersion/go-ical v0.0.0-20250329121855-f41e73efc392
	github.com/gorilla/mux v1.8.1
	github.com/teambition/rrule-go v1.8.2
	golang.org/x/crypto v0.58.0
	gopkg.in/yaml.v3 v3.0.1
)

require golang.org/x/sys v0.49.0 // indirect
