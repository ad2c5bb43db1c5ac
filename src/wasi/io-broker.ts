// STUB: the synchronous bridge from the guest's worker thread to the supervising thread, which owns
// the event loop and therefore the sockets (Node has no synchronous accept/poll).
export interface IoBroker {}
