//! A DNS server on loopback for the tests that look up TXT records (domain proofs, DKIM).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, MessageType, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record};

/// A DNS server on loopback that answers TXT queries from a table; stopped when dropped.
pub struct Dns {
    pub addr: SocketAddr,
    records: Arc<Mutex<HashMap<String, Vec<String>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Dns {
    pub async fn start() -> Dns {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let records: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
        let table = records.clone();
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let Ok((n, from)) = socket.recv_from(&mut buf).await else {
                    return;
                };
                let Ok(query) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut answer = Message::new();
                answer
                    .set_id(query.id())
                    .set_message_type(MessageType::Response)
                    .set_op_code(OpCode::Query)
                    .set_recursion_desired(query.recursion_desired())
                    .set_recursion_available(true)
                    .set_authoritative(true);
                for q in query.queries() {
                    answer.add_query(q.clone());
                    let name = q.name().to_ascii().trim_end_matches('.').to_lowercase();
                    let values = table.lock().unwrap().get(&name).cloned();
                    match values {
                        Some(values) => {
                            for v in values {
                                answer.add_answer(Record::from_rdata(
                                    q.name().clone(),
                                    1,
                                    RData::TXT(TXT::new(
                                        v.as_bytes()
                                            .chunks(255)
                                            .map(|c| String::from_utf8_lossy(c).into_owned())
                                            .collect(),
                                    )),
                                ));
                            }
                        }
                        None => {
                            answer.set_response_code(ResponseCode::NXDomain);
                        }
                    }
                }
                let _ = socket.send_to(&answer.to_vec().unwrap(), from).await;
            }
        });
        Dns {
            addr,
            records,
            task,
        }
    }

    /// Add a TXT record at `name` (a long value is split into strings of 255 bytes, as DNS has it).
    pub fn publish(&self, name: &str, value: &str) {
        self.records
            .lock()
            .unwrap()
            .entry(name.to_owned())
            .or_default()
            .push(value.to_owned());
    }
}

impl Dns {
    /// Take every record at `name` away.
    pub fn unpublish(&self, name: &str) {
        self.records.lock().unwrap().remove(name);
    }
}

impl Drop for Dns {
    fn drop(&mut self) {
        self.task.abort();
    }
}
