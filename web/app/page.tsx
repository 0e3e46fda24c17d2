import { NetworkNumbers } from '../components/network-numbers.tsx'

export default function DashboardPage() {
  return (
    <>
      <h1>Network</h1>
      <NetworkNumbers />
    </>
  )
}
