export default function Page() { return <p className="muted">Coming up.</p> }
