package kernel

import (
	"sort"
	"sync"

	"github.com/unetlab/unetlab/kernel/wire"
)

// comms tracks the comms open between the front end and the interpreter:
// comm id to target name.
type comms struct {
	mu   sync.Mutex
	open map[string]string
}

func newComms() *comms { return &comms{open: map[string]string{}} }

func (c *comms) add(id, target string) {
	c.mu.Lock()
	c.open[id] = target
	c.mu.Unlock()
}

func (c *comms) remove(id string) {
	c.mu.Lock()
	delete(c.open, id)
	c.mu.Unlock()
}

func (c *comms) has(id string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, ok := c.open[id]
	return ok
}

// reset forgets every comm (the interpreter that held them is gone) and
// returns their ids, sorted.
func (c *comms) reset() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	ids := make([]string, 0, len(c.open))
	for id := range c.open {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	c.open = map[string]string{}
	return ids
}

// commInfo is the content of comm_info_reply's "comms": every open comm, or
// those of target when it is not "".
func (c *comms) info(target string) map[string]wire.CommInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string]wire.CommInfo{}
	for id, t := range c.open {
		if target == "" || t == target {
			out[id] = wire.CommInfo{TargetName: t}
		}
	}
	return out
}

// track updates the table for a comm message in either direction.
func (c *comms) track(typ string, content map[string]any) {
	id, _ := content["comm_id"].(string)
	if id == "" {
		return
	}
	switch typ {
	case "comm_open":
		target, _ := content["target_name"].(string)
		c.add(id, target)
	case "comm_close":
		c.remove(id)
	}
}
