module example.com/go-greet

go 1.21
