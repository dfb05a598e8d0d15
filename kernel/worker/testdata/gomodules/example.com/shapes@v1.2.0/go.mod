module example.com/shapes

go 1.21

require example.com/geom v1.0.0
