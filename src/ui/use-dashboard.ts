import { useStore } from 'zustand';
import type { DashboardState, DashboardStore } from './dashboard-store.ts';
import { createContext, useContext } from 'react';

export const DashboardContext = createContext<DashboardStore | null>(null);

export function useDashboard<T>(selector: (s: DashboardState) => T): T {
  const store = useContext(DashboardContext);
  if (!store) throw new Error('useDashboard outside DashboardContext');
  return useStore(store, selector);
}
