//! Which agents have a console connected to this process: an agent's
//! token authenticated on `/graphql/ws`. The widget's sweep releases
//! take-overs whose agent's console has been gone longer than a grace
//! period.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use uuid::Uuid;

/// Open console connections per agent.
#[derive(Debug, Clone, Default)]
pub struct Consoles {
    open: Arc<Mutex<HashMap<Uuid, usize>>>,
}

/// One open console connection; dropping it closes it.
#[derive(Debug)]
pub struct Console {
    consoles: Consoles,
    agent: Uuid,
}

impl Consoles {
    /// Records a console of `agent` until the returned value is dropped.
    pub fn connect(&self, agent: Uuid) -> Console {
        *self.lock().entry(agent).or_default() += 1;
        Console {
            consoles: self.clone(),
            agent,
        }
    }

    /// Agents with at least one console connected.
    pub fn agents(&self) -> Vec<Uuid> {
        self.lock().keys().copied().collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, usize>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let mut open = self.consoles.lock();
        if let Some(count) = open.get_mut(&self.agent) {
            *count -= 1;
            if *count == 0 {
                open.remove(&self.agent);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agent_is_connected_while_any_of_their_consoles_is_open() {
        let consoles = Consoles::default();
        let agent = Uuid::now_v7();
        let first = consoles.connect(agent);
        let second = consoles.connect(agent);
        drop(first);
        assert_eq!(consoles.agents(), vec![agent]);
        drop(second);
        assert!(consoles.agents().is_empty());
    }
}
