//! The services (`lin-kv`, `seq-kv`, `lww-kv`, `lin-tso`, `time-server`), hosted in-process as nodes.

use super::*;

impl Router {
    pub(super) fn init_service(&mut self, name: &str) {
        let Some(index) = self.services.iter().position(|(n, _)| n == name) else {
            return;
        };
        let mut ids: Vec<String> = vec![name.to_owned()];
        ids.extend(self.config.node_ids.iter().cloned());
        let init = Message::new(
            SETUP_CLIENT,
            name,
            Body {
                msg_id: Some(0),
                in_reply_to: None,
                payload: Payload::Init {
                    node_id: name.to_owned(),
                    node_ids: ids,
                },
            },
        );
        // The service's init_ok goes nowhere: the harness hosts it.
        let _ = self.services[index].1.handle_message(Duration::ZERO, init);
    }

    pub(super) fn next_service_deadline(&self) -> Option<u64> {
        self.services
            .iter()
            .filter_map(|(_, rt)| rt.next_deadline())
            .map(|d| d.as_nanos() as u64)
            .min()
    }

    pub(super) fn run_services(&mut self, now: u64) {
        for service in 0..self.services.len() {
            if self.services[service]
                .1
                .next_deadline()
                .is_some_and(|d| d.as_nanos() as u64 <= now)
            {
                let effects = self.services[service].1.advance(Duration::from_nanos(now));
                self.service_effects(now, service, effects);
            }
        }
    }

    pub(super) fn service_effects(&mut self, now: u64, service: usize, effects: Vec<Effect>) {
        let name = self.services[service].0.clone();
        for effect in effects {
            let Effect::Send(msg) = effect else { continue };
            let line = proto::to_line(&msg);
            let id = self.rec.next_id();
            let body = serde_json::to_string(&msg.body).unwrap_or_default();
            self.rec.send(now, id, &name, None, &msg.dest, &body);
            match self.classify(&msg.dest) {
                Some(Dest::Node(node)) => self.route(
                    now,
                    id,
                    Peer::Service(service),
                    None,
                    Dest::Node(node),
                    line,
                ),
                Some(Dest::Client) => {
                    // An answer to a request a node forwarded with the client's src: client
                    // links have no latency.
                    self.rec.deliver(now, id, &name, None, &msg.dest);
                    self.on_client_reply(Peer::Service(service), now, &msg.dest, &line);
                }
                _ => self.drop_message(now, id, &name, &msg.dest, "unknown-dest"),
            }
        }
    }
}
